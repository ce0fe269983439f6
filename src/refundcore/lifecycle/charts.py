"""The three charts: an order, a return case and a refund.

Each chart declares states, transitions and the names of the guards that
allow them, nothing else: the guards are side-effect-free methods of the
record the chart is bound to, and money arithmetic lives in policy (callers
pass its results in on the events). The charts derive from
:class:`statemachine.StateMachine`, which raises on an event with no
transition and lets an exception in a callback propagate, instead of
swallowing it like a ``StateChart``.

The same definitions drive the per-case path (one chart instance per case)
and the compiled transition table of the bulk replay.
"""

from __future__ import annotations

from statemachine import State, StateMachine

__all__ = ["OrderLifecycle", "RefundLifecycle", "ReturnLifecycle"]


class OrderLifecycle(StateMachine):
    """An order from placement to settlement eligibility.

    An order becomes ``completed`` (settleable: the platform's settlement
    clock starts) when the buyer confirms receipt, or automatically when the
    confirmation deadline, counted from shipment, has run out. It can be
    cancelled until it ships.
    """

    placed = State("placed", value="placed", initial=True)
    paid = State("paid", value="paid")
    shipped = State("shipped", value="shipped")
    delivered = State("delivered", value="delivered")
    completed = State("completed", value="completed", final=True)
    cancelled = State("cancelled", value="cancelled", final=True)

    pay = placed.to(paid)
    ship = paid.to(shipped)
    deliver = shipped.to(delivered)
    confirm = shipped.to(completed) | delivered.to(completed)
    auto_confirm = (shipped.to(completed, cond="confirmation_due")
                    | delivered.to(completed, cond="confirmation_due"))
    cancel = placed.to(cancelled) | paid.to(cancelled)


class ReturnLifecycle(StateMachine):
    """A return case from the buyer's request to its close.

    Approval sends a return-and-refund (or exchange) case to wait for the
    buyer's parcel and a refund-only case straight to ``refund_pending``; an
    inspection that accepts nothing sends the goods back to the buyer. Refunds
    are issued while the case owes money (or straight on receipt when a
    warehouse scanned in the return parcel: 到仓即退); the case is
    ``refunded`` when the refunds paid out reach what it may refund. A
    negotiated agreement (协商) sets what it may refund, and before the
    parcel is sent back it replaces the return. An exchange whose goods
    passed inspection ends ``exchanged`` when the replacement ships. A
    rejection can be disputed on the platform, which decides it either way.
    The ``auto_*`` events are the platform's deadlines (see
    :class:`~refundcore.lifecycle.Deadlines`).
    """

    requested = State("requested", value="requested", initial=True)
    under_review = State("under review", value="under_review")
    awaiting_parcel = State("awaiting parcel", value="awaiting_parcel")
    in_transit = State("in transit", value="in_transit")
    received = State("received", value="received")
    inspected = State("inspected", value="inspected")
    refund_pending = State("refund pending", value="refund_pending")
    refunded = State("refunded", value="refunded")
    rejected = State("rejected", value="rejected")
    sent_back = State("sent back", value="sent_back")
    disputed = State("disputed", value="disputed")
    exchanged = State("exchanged", value="exchanged", final=True)
    cancelled = State("cancelled", value="cancelled", final=True)
    closed = State("closed", value="closed", final=True)

    escalate = requested.to(under_review)
    approve = (requested.to(awaiting_parcel, cond="parcel_expected")
               | requested.to(refund_pending, unless="parcel_expected")
               | under_review.to(awaiting_parcel, cond="parcel_expected")
               | under_review.to(refund_pending, unless="parcel_expected"))
    auto_approve = (
        requested.to(awaiting_parcel, cond=["merchant_response_due", "parcel_expected"])
        | requested.to(refund_pending, cond="merchant_response_due", unless="parcel_expected")
        | under_review.to(awaiting_parcel, cond=["merchant_response_due", "parcel_expected"])
        | under_review.to(refund_pending, cond="merchant_response_due", unless="parcel_expected")
    )
    reject = requested.to(rejected) | under_review.to(rejected)
    cancel = requested.to(cancelled) | under_review.to(cancelled) | awaiting_parcel.to(cancelled)
    auto_cancel = awaiting_parcel.to(cancelled, cond="ship_back_due")
    ship_back = awaiting_parcel.to(in_transit, cond="shipped_after_request")
    receive = in_transit.to(received)
    auto_receive = in_transit.to(received, cond="receipt_due")
    inspect = (
        received.to(inspected, cond=["inspection_matches_request", "some_accepted",
                                     "refundable_within_quote"])
        | received.to(sent_back, cond="inspection_matches_request", unless="some_accepted")
    )
    issue_refund = (
        inspected.to(refund_pending,
                     cond=["refund_is_new", "refund_names_case", "refund_within_limit"])
        | received.to(refund_pending, cond=["receipt_scanned", "refund_is_new",
                                            "refund_names_case", "refund_within_limit"])
        | refund_pending.to(refund_pending, internal=True,
                            cond=["refund_is_new", "refund_names_case", "refund_within_limit"])
    )
    submit_refund = refund_pending.to(refund_pending, internal=True, cond="refund_known")
    fail_refund = refund_pending.to(refund_pending, internal=True, cond="refund_known")
    retry_refund = refund_pending.to(refund_pending, internal=True, cond="refund_known")
    settle_refund = (
        refund_pending.to(refunded, cond=["refund_known", "settles_in_full"])
        | refund_pending.to(refund_pending, internal=True, cond="refund_known",
                            unless="settles_in_full")
    )
    reverse_refund = (refunded.to(refund_pending, cond="refund_known")
                      | refund_pending.to(refund_pending, internal=True, cond="refund_known"))
    negotiate = (
        requested.to(refund_pending, cond=["agreed_within_quote", "agreed_covers_refunds"])
        | under_review.to(refund_pending, cond=["agreed_within_quote", "agreed_covers_refunds"])
        | awaiting_parcel.to(refund_pending,
                             cond=["agreed_within_quote", "agreed_covers_refunds"])
        | inspected.to(inspected, internal=True,
                       cond=["agreed_within_quote", "agreed_covers_refunds"])
        | refund_pending.to(refunded, cond=["agreed_within_quote", "agreed_covers_refunds",
                                            "agreed_paid_out"])
        | refund_pending.to(refund_pending, internal=True,
                            cond=["agreed_within_quote", "agreed_covers_refunds"],
                            unless="agreed_paid_out")
    )
    ship_replacement = inspected.to(exchanged, cond=["replacement_expected",
                                                     "shipped_after_request"])
    dispute = rejected.to(disputed) | sent_back.to(disputed)
    resolve = (disputed.to(refund_pending, cond=["buyer_won", "award_within_quote"])
               | disputed.to(closed, cond="merchant_won"))
    close = refunded.to(closed) | rejected.to(closed) | sent_back.to(closed)


class RefundLifecycle(StateMachine):
    """One refund at the payment provider.

    A failed refund can be retried (submitted again); a paid refund can be
    reversed when the provider takes it back, after which the case owes it
    again.
    """

    pending = State("pending", value="pending", initial=True)
    submitted = State("submitted", value="submitted")
    succeeded = State("succeeded", value="succeeded")
    failed = State("failed", value="failed")
    reversed = State("reversed", value="reversed", final=True)

    submit = pending.to(submitted)
    succeed = submitted.to(succeeded)
    fail = submitted.to(failed)
    retry = failed.to(submitted)
    reverse = succeeded.to(reversed)
