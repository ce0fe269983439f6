"""How long each party may take before the platform acts for them.

Real platforms enforce these clocks: a merchant who does not answer a return
request in time has it approved automatically, a buyer who does not send the
parcel back in time has the request cancelled, a merchant who does not confirm
receipt of a returned parcel in time has it received automatically, and an
order the buyer never confirms is confirmed automatically (which starts the
settlement clock). The durations live in one :class:`Deadlines` object; the
cases fire them from ``tick(now)``. One clock is a report, not an action: a
refund not paid out in time (退款处理不及时) is listed by
:func:`~refundcore.lifecycle.overdue`, since no platform pays it out for the
merchant. Nothing here reads the clock.
"""

from __future__ import annotations

import enum
from datetime import timedelta

import attrs

from refundcore._checks import Checker

__all__ = ["Deadline", "Deadlines"]


class Deadline(enum.Enum):
    """One of the clocks a platform enforces."""

    MERCHANT_RESPONSE = "merchant_response"
    """The merchant did not answer a return request: it is approved automatically."""
    BUYER_SHIP_BACK = "buyer_ship_back"
    """The buyer did not send the parcel back: the request is cancelled."""
    MERCHANT_RECEIPT = "merchant_receipt"
    """The merchant did not confirm receipt of the returned parcel: it counts as received."""
    ORDER_CONFIRMATION = "order_confirmation"
    """The buyer did not confirm receipt of a shipped order: it is confirmed automatically."""
    REFUND_PROCESSING = "refund_processing"
    """A refund due was not paid out in time (退款处理不及时): reported, never fired."""


def _positive(check: Checker, field: str, value: object) -> None:
    if not isinstance(value, timedelta):
        check.fail(field, "must be a timedelta", value)
    if value <= timedelta(0):
        check.fail(field, "must be positive", value)


@attrs.frozen(kw_only=True)
class Deadlines:
    """The durations of the clocks, each counted from the moment its state was entered.

    The defaults follow common Chinese platform rules (48 hours for the
    merchant to answer, 7 days to ship back, 10 days to confirm receipt of a
    return, 10 days after shipment for an order to confirm itself, 72 hours
    to pay a refund out once it is due); pass your platform's values.

    Attributes:
        merchant_response: From the request (or its escalation to manual review)
            to automatic approval.
        buyer_ship_back: From approval to automatic cancellation when no parcel
            was sent back.
        merchant_receipt: From the buyer shipping the parcel back to automatic
            receipt.
        order_confirmation: From the order's shipment to automatic confirmation
            of receipt.
        refund_processing: From the moment a refund became due (inspection
            passed, approval of a refund-only request, an agreement, a
            dispute won, a refund reversed) to the refunds being paid out in
            full; :func:`~refundcore.lifecycle.overdue` lists the cases past it.
    """

    merchant_response: timedelta = timedelta(hours=48)
    buyer_ship_back: timedelta = timedelta(days=7)
    merchant_receipt: timedelta = timedelta(days=10)
    order_confirmation: timedelta = timedelta(days=10)
    refund_processing: timedelta = timedelta(hours=72)

    def __attrs_post_init__(self) -> None:
        check = Checker(self, None)
        for field in attrs.fields(Deadlines):
            _positive(check, field.name, getattr(self, field.name))

    def duration(self, deadline: Deadline) -> timedelta:
        """The duration of ``deadline``."""
        return getattr(self, deadline.value)  # type: ignore[no-any-return]
