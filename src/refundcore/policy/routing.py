"""Routing: :class:`ReturnPolicy` decides what happens to a request and quotes its refund.

:meth:`ReturnPolicy.evaluate` runs the eligibility rules, scores the buyer's
risk, quotes the refund, and returns a :class:`Decision`: approve
automatically, send to a person with a :class:`ReviewReport`, or reject,
always with every reason. The defaults:

* a rule that fails with ``Outcome.REJECT`` rejects (an out-of-window request
  is rejected with the date its window closed);
* a watch-listed buyer always goes to review;
* a request that came in through one of ``review_channels`` (none by
  default) goes to review;
* disputed reasons (not as described, quality defect, missing parts, wrong
  item, other) go to review;
* a refund-only request before anything has shipped is approved;
* a request refunding at most ``auto_approve_up_to`` (200 major units), or
  the limit ``channel_limits`` sets for the request's channel, from a buyer
  scoring below ``low_risk_below`` (30) is approved;
* anything else goes to review.

A :class:`ReviewReport` renders itself for a person: :meth:`ReviewReport.to_text`
(aligned plain text, labels in English and Chinese) and
:meth:`ReviewReport.to_html` (a small escaped table, also shown in notebooks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

import attrs

from refundcore.domain import (
    Channel,
    Inspection,
    Order,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
)
from refundcore.errors import InvalidAmount, InvalidRecord
from refundcore.money import Money, Rounding, _to_decimal
from refundcore.policy import _report as render
from refundcore.policy.eligibility import Facts, Finding, Outcome, Rule, check_all, default_rules
from refundcore.policy.facts import Fulfilment, History, OrderState, PastRefund
from refundcore.policy.quote import (
    AmountOption,
    RateOption,
    RefundQuote,
    _rate_option,
    quote_refund,
)
from refundcore.policy.risk import RiskProfile, RiskThresholds, assess_risk
from refundcore.policy.split import split_refund

__all__ = ["DEFAULT_REVIEW_REASONS", "Decision", "ReturnPolicy", "ReviewReport"]

#: Reasons whose facts are disputed: a person looks before money moves.
DEFAULT_REVIEW_REASONS = frozenset({
    Reason.NOT_AS_DESCRIBED,
    Reason.QUALITY_DEFECT,
    Reason.MISSING_PARTS,
    Reason.WRONG_ITEM,
    Reason.OTHER,
})


@attrs.frozen(kw_only=True)
class ReviewReport:
    """What a reviewer needs to decide a request without looking anything up.

    Attributes:
        order_id: The order.
        customer_id: The buyer.
        request_id: The request.
        reason: The buyer's reason.
        kind: What the buyer asks for.
        channel: Where the request came in.
        order_state: Not shipped, in transit or delivered.
        carrier: The outbound carrier, if shipped.
        tracking_number: Its tracking number, if shipped.
        shipped_at: When it shipped.
        delivered_at: When it was delivered.
        amount: What the request would refund (the quote's total).
        order_count: The buyer's orders in the history given.
        refund_count: The buyer's refunds in the history given.
        refunded_total: What those refunds came to, in the order's currency.
        refunds: Those refunds, newest first.
        risk: The buyer's risk profile.
        evidence: What the buyer supplied.
        findings: Every rule's finding.
        note: The buyer's own words.
    """

    order_id: str
    customer_id: str
    request_id: str
    reason: Reason
    kind: ReturnKind
    channel: Channel = Channel.PLATFORM
    order_state: OrderState
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    amount: Money
    order_count: int
    refund_count: int
    refunded_total: Money
    refunds: tuple[PastRefund, ...]
    risk: RiskProfile
    evidence: tuple[str, ...]
    findings: tuple[Finding, ...]
    note: str = ""

    def to_text(self) -> str:
        """Every field as aligned plain text, labels in English and Chinese.

        Wide (CJK) characters count as two columns, so the values line up in
        a terminal; a field with several values (refunds, signals, evidence,
        findings) takes one line each; an unknown field shows ``—``.
        """
        return render.to_text(self)

    def to_html(self) -> str:
        """Every field as a small self-contained HTML table; every text is escaped."""
        return render.to_html(self)

    def _repr_html_(self) -> str:
        """The HTML table, for notebooks."""
        return self.to_html()


@attrs.frozen(kw_only=True)
class Decision:
    """What happens to a request, and why.

    Attributes:
        outcome: Approve, review or reject.
        reasons: Every reason for the outcome, in words.
        findings: Every eligibility rule's finding, passed or not.
        risk: The buyer's risk profile.
        quote: The refund the request would get (a dry run); ``None`` when rejected.
        report: For review, what the reviewer needs; else ``None``.
        expired_at: For a request rejected as late, when its window closed.
    """

    outcome: Outcome
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]
    risk: RiskProfile
    quote: RefundQuote | None = None
    report: ReviewReport | None = None
    expired_at: datetime | None = None

    @property
    def approved(self) -> bool:
        """Whether the request is approved automatically."""
        return self.outcome is Outcome.APPROVE


def _major(value: object, field: str) -> Decimal:
    if isinstance(value, (Decimal, str, int)) and not isinstance(value, bool):
        try:
            # Money's own reading: plain ASCII digits, finite, bounded.
            number = _to_decimal(value, field)
        except InvalidAmount:
            number = Decimal(-1)
        if number >= 0:
            return number
    raise InvalidRecord(f"{field} must be a non-negative amount in major units (str, Decimal "
                        "or int)", value=value, record="ReturnPolicy", field=field)


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


_NO_LIMITS: Mapping[Channel, Decimal | str | int] = MappingProxyType({})


def _frozen_limits(
    value: Mapping[Channel, Decimal | str | int],
) -> Mapping[Channel, Decimal | str | int]:
    """A read-only copy, so that the frozen policy cannot change under its caller."""
    if not isinstance(value, Mapping):
        return value  # the policy's own check names it
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ReturnPolicy:
    """A merchant's return policy: rules, risk thresholds, limits and charges.

    Every option is keyword-only and has a documented default; build a
    variant with :func:`attrs.evolve`.

    Attributes:
        rules: Eligibility rules (see :func:`~refundcore.policy.default_rules`).
        risk: When risk signals fire and what they weigh.
        auto_approve_up_to: The largest refund approved without a person, in
            major units of the order's currency (default 200).
        low_risk_below: Buyers scoring below this count as low risk (default 30).
        review_reasons: Reasons that always go to a person.
        return_shipping: The return parcel's cost charged for returns that
            are not the merchant's fault, in major units (default 0).
        restocking_rate: The share of what was paid charged on the same
            condition (default 0).
        refund_to: Where refunds go first: the original route (default),
            or all to stored balance or as a coupon.
        fallback: Where what the original route cannot take goes: stored
            balance (default) or a coupon.
        review_channels: Channels whose requests always go to a person
            (none by default); for example
            ``frozenset({Channel.CUSTOMER_SERVICE})`` when requests keyed in
            by staff on a buyer's behalf must be checked by a second person.
        channel_limits: Auto-approval limits for particular channels, in
            major units, in place of ``auto_approve_up_to`` (none by
            default); for example ``{Channel.MINI_PROGRAM: "100"}`` where the
            shop's own mini-program has no platform arbitration behind it.
    """

    rules: tuple[Rule, ...] = attrs.field(factory=default_rules, converter=_rules)
    risk: RiskThresholds = attrs.Factory(RiskThresholds)
    auto_approve_up_to: Decimal | str | int = Decimal(200)
    low_risk_below: int = 30
    review_reasons: frozenset[Reason] = DEFAULT_REVIEW_REASONS
    return_shipping: AmountOption = 0
    restocking_rate: RateOption = 0
    refund_to: RefundMethod = RefundMethod.ORIGINAL_ROUTE
    fallback: RefundMethod = RefundMethod.BALANCE
    review_channels: frozenset[Channel] = frozenset()
    channel_limits: Mapping[Channel, Decimal | str | int] = attrs.field(
        factory=lambda: _NO_LIMITS, converter=_frozen_limits)

    def __attrs_post_init__(self) -> None:
        for rule in self.rules:
            if not callable(rule):
                raise InvalidRecord("a rule must be callable", value=rule,
                                    record="ReturnPolicy", field="rules")
        if not isinstance(self.risk, RiskThresholds):
            raise InvalidRecord("must be RiskThresholds", value=self.risk,
                                record="ReturnPolicy", field="risk")
        _major(self.auto_approve_up_to, "auto_approve_up_to")
        if not isinstance(self.low_risk_below, int) or isinstance(self.low_risk_below, bool):
            raise InvalidRecord("must be an int", value=self.low_risk_below,
                                record="ReturnPolicy", field="low_risk_below")
        if isinstance(self.return_shipping, Money):
            if self.return_shipping.minor < 0:
                raise InvalidRecord("must not be negative", value=self.return_shipping,
                                    record="ReturnPolicy", field="return_shipping")
        else:
            _major(self.return_shipping, "return_shipping")
        _rate_option(self.restocking_rate, "restocking_rate")
        if not isinstance(self.refund_to, RefundMethod):
            raise InvalidRecord("must be a RefundMethod", value=self.refund_to,
                                record="ReturnPolicy", field="refund_to")
        if self.fallback not in (RefundMethod.BALANCE, RefundMethod.COUPON):
            raise InvalidRecord("must be RefundMethod.BALANCE or COUPON", value=self.fallback,
                                record="ReturnPolicy", field="fallback")
        if not isinstance(self.review_reasons, frozenset) or not all(
                isinstance(reason, Reason) for reason in self.review_reasons):
            raise InvalidRecord("must be a frozenset of Reason", value=self.review_reasons,
                                record="ReturnPolicy", field="review_reasons")
        if not isinstance(self.review_channels, frozenset) or not all(
                isinstance(channel, Channel) for channel in self.review_channels):
            raise InvalidRecord("must be a frozenset of Channel", value=self.review_channels,
                                record="ReturnPolicy", field="review_channels")
        if not isinstance(self.channel_limits, Mapping):
            raise InvalidRecord("must map Channel to an amount in major units",
                                value=self.channel_limits, record="ReturnPolicy",
                                field="channel_limits")
        for channel, limit in self.channel_limits.items():
            if not isinstance(channel, Channel):
                raise InvalidRecord("keys must be Channel members", value=channel,
                                    record="ReturnPolicy", field="channel_limits")
            _major(limit, "channel_limits")

    def quote(
        self,
        order: Order,
        lines: ReturnRequest | Iterable[ReturnLine],
        *,
        reason: Reason | None = None,
        kind: ReturnKind | None = None,
        inspection: Inspection | Iterable[Inspection] | None = None,
        already_refunded: Iterable[RefundQuote | Refund] = (),
    ) -> RefundQuote:
        """Quote a refund with this policy's charges (see :func:`quote_refund`); changes nothing."""
        return quote_refund(order, lines, reason=reason, kind=kind, inspection=inspection,
                            already_refunded=already_refunded,
                            return_shipping=self.return_shipping,
                            restocking_rate=self.restocking_rate)

    def split(
        self,
        quote: RefundQuote,
        order: Order,
        *,
        already_refunded: Iterable[Refund] = (),
        unavailable: Iterable[str] = (),
    ) -> tuple[Refund, ...]:
        """Split ``quote`` across tenders the policy's way; see :func:`split_refund`."""
        return split_refund(quote, order, already_refunded=already_refunded,
                            prefer=self.refund_to, fallback=self.fallback,
                            unavailable=frozenset(unavailable))

    def evaluate(
        self,
        order: Order,
        request: ReturnRequest,
        *,
        now: datetime,
        history: History | None = None,
        fulfilment: Fulfilment | None = None,
        already_refunded: Iterable[RefundQuote | Refund] = (),
    ) -> Decision:
        """Decide ``request``: approve, review or reject, with every reason.

        Args:
            order: The order.
            request: The buyer's request on it.
            now: The moment of the decision (timezone-aware).
            history: The buyer's history and the order's other requests.
            fulfilment: The outbound parcel, if it has left.
            already_refunded: Quotes and refunds already paid on the order,
                for the quote.

        Raises:
            InvalidRecord: the request does not fit the order, ``now`` is
                naive, or a rule returns something other than a Finding.
        """
        facts = Facts(order=order, request=request, now=now,
                      fulfilment=Fulfilment() if fulfilment is None else fulfilment,
                      history=History() if history is None else history)
        findings = check_all(facts, self.rules)
        failed = [f for f in findings if not f.passed]
        rejected = [f for f in failed if f.outcome is Outcome.REJECT]
        if rejected:
            # No quote: a rejected request may ask for units that cannot be quoted at all.
            risk = assess_risk(order.customer_id, facts.history, now=now, request=request,
                               thresholds=self.risk)
            expired = [f.expired_at for f in rejected if f.expired_at is not None]
            return Decision(outcome=Outcome.REJECT, reasons=tuple(f.message for f in rejected),
                            findings=findings, risk=risk,
                            expired_at=min(expired) if expired else None)
        quote = self.quote(order, request, already_refunded=already_refunded)
        risk = assess_risk(order.customer_id, facts.history, now=now, request=request,
                           amount=quote.total, thresholds=self.risk)
        reasons = [f.message for f in failed]
        if risk.watchlisted:
            reasons.append(f"buyer is watch-listed: risk score {risk.summary()}")
        if request.reason in self.review_reasons:
            reasons.append(f"disputed reason {request.reason.value!r} needs a person")
        if request.channel in self.review_channels:
            reasons.append(f"requests through the {request.channel.value} channel go to a person")
        if not reasons:
            approve = self._approval(facts, quote, risk)
            if approve is not None:
                return Decision(outcome=Outcome.APPROVE, reasons=(approve,), findings=findings,
                                risk=risk, quote=quote)
            reasons.append(self._why_not_auto(quote, risk, request.channel))
        return Decision(outcome=Outcome.REVIEW, reasons=tuple(reasons), findings=findings,
                        risk=risk, quote=quote, report=_report(facts, quote, risk, findings))

    def _limit(self, currency: str, channel: Channel) -> tuple[Money, str]:
        """The auto-approval limit for ``channel``, and how a reason says whose it is."""
        if channel in self.channel_limits:
            amount, whose = self.channel_limits[channel], f" for {channel.value}"
        else:
            amount, whose = self.auto_approve_up_to, ""
        return Money.of(_major(amount, "auto_approve_up_to"), currency,
                        rounding=Rounding.FLOOR), whose

    def _approval(self, facts: Facts, quote: RefundQuote, risk: RiskProfile) -> str | None:
        if (facts.fulfilment.state is OrderState.NOT_SHIPPED
                and facts.request.kind is ReturnKind.REFUND_ONLY):
            return "refund only before shipment"
        limit, whose = self._limit(quote.currency, facts.request.channel)
        if quote.total <= limit and risk.score < self.low_risk_below:
            return (f"low value ({quote.total}, at most {limit}{whose}) from a low-risk buyer "
                    f"(score {risk.score} below {self.low_risk_below})")
        return None

    def _why_not_auto(self, quote: RefundQuote, risk: RiskProfile, channel: Channel) -> str:
        limit, whose = self._limit(quote.currency, channel)
        if quote.total > limit:
            return f"{quote.total} is above the auto-approval limit {limit}{whose}"
        return f"risk score {risk.score} is not below {self.low_risk_below}"


def _report(facts: Facts, quote: RefundQuote, risk: RiskProfile,
            findings: tuple[Finding, ...]) -> ReviewReport:
    order, request, history = facts.order, facts.request, facts.history
    shipment = facts.fulfilment.shipment
    refunded = Money.total((r.amount for r in history.refunds
                            if r.amount.currency == order.currency), currency=order.currency)
    return ReviewReport(
        order_id=order.id,
        customer_id=order.customer_id,
        request_id=request.id,
        reason=request.reason,
        kind=request.kind,
        channel=request.channel,
        order_state=facts.fulfilment.state,
        carrier=None if shipment is None else shipment.carrier,
        tracking_number=None if shipment is None else shipment.tracking_number,
        shipped_at=None if shipment is None else shipment.shipped_at,
        delivered_at=facts.fulfilment.delivered_at,
        amount=quote.total,
        order_count=len(history.orders),
        refund_count=len(history.refunds),
        refunded_total=refunded,
        refunds=tuple(sorted(history.refunds, key=lambda r: r.refunded_at, reverse=True)),
        risk=risk,
        evidence=request.evidence,
        findings=findings,
        note=request.note,
    )
