"""Eligibility rules: small callables that look at the facts of a request and pass or say why not.

A rule is any callable taking :class:`Facts` and returning a :class:`Finding`.
The factories here (:func:`return_window`, :func:`order_state`,
:func:`returnable_goods`, :func:`quantity_available`, :func:`no_open_request`)
take keyword-only options and return such callables; :func:`all_of` and
:func:`any_of` compose them. A failed finding says which outcome it asks for
(reject, or send to a person) and carries the data behind it, such as the date
a return window closed. Nothing here raises for an ineligible request.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import attrs

from refundcore._checks import Checker
from refundcore.domain import GoodsCategory, Order, ReturnKind, ReturnRequest
from refundcore.errors import InvalidRecord
from refundcore.policy.facts import Fulfilment, History, OrderState, RequestStatus

__all__ = [
    "DEFAULT_CHANGED_MIND_WINDOW",
    "DEFAULT_MERCHANT_FAULT_WINDOW",
    "Facts",
    "Finding",
    "Outcome",
    "Rule",
    "all_of",
    "any_of",
    "check_all",
    "default_rules",
    "no_open_request",
    "order_state",
    "quantity_available",
    "return_window",
    "returnable_goods",
]

#: The no-questions window for changed-mind returns (七天无理由退货).
DEFAULT_CHANGED_MIND_WINDOW = timedelta(days=7)
#: The window for quality problems and other merchant faults.
DEFAULT_MERCHANT_FAULT_WINDOW = timedelta(days=15)


class Outcome(enum.Enum):
    """What happens to a request: approve automatically, send to a person, or reject."""

    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"


@attrs.frozen(kw_only=True)
class Facts:
    """Everything a rule may look at for one request.

    Attributes:
        order: The order.
        request: The buyer's request on it.
        now: The moment of the decision (timezone-aware); never read from a clock.
        fulfilment: The outbound parcel, if any.
        history: The buyer's history and the order's other requests.
    """

    order: Order
    request: ReturnRequest
    now: datetime
    fulfilment: Fulfilment = attrs.Factory(Fulfilment)
    history: History = attrs.Factory(History)

    def __attrs_post_init__(self) -> None:
        check = Checker(self, getattr(self.request, "id", None))
        if not isinstance(self.order, Order):
            check.fail("order", "must be an Order", self.order)
        if not isinstance(self.request, ReturnRequest):
            check.fail("request", "must be a ReturnRequest", self.request)
        check.aware("now")
        if not isinstance(self.fulfilment, Fulfilment):
            check.fail("fulfilment", "must be a Fulfilment", self.fulfilment)
        if not isinstance(self.history, History):
            check.fail("history", "must be a History", self.history)
        self.order.check_return(self.request)


@attrs.frozen(kw_only=True)
class Finding:
    """The verdict of one rule: passed, or failed with a reason and what it asks for.

    Attributes:
        rule: The rule's name (``"return_window"``).
        passed: Whether the request passed the rule.
        message: Why, in words a person can act on.
        outcome: For a failure, what it asks for: ``Outcome.REJECT`` or
            ``Outcome.REVIEW``. ``None`` when passed.
        expired_at: For a closed window, when it closed.
        line_ids: The order lines the finding is about, if particular ones.
        details: The findings a composed rule was built from.
    """

    rule: str
    passed: bool
    message: str = ""
    outcome: Outcome | None = None
    expired_at: datetime | None = None
    line_ids: tuple[str, ...] = ()
    details: tuple[Finding, ...] = ()

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.rule)
        check.text("rule")
        check.flag("passed")
        if not isinstance(self.message, str):
            check.fail("message", "must be a str", self.message)
        if self.outcome is not None and not isinstance(self.outcome, Outcome):
            check.fail("outcome", "must be an Outcome or None", self.outcome)
        if self.passed and self.outcome is not None:
            check.fail("outcome", "a passed finding asks for no outcome", self.outcome)
        if not self.passed and self.outcome not in (Outcome.REJECT, Outcome.REVIEW):
            check.fail("outcome", "a failed finding asks for REJECT or REVIEW", self.outcome)
        check.aware("expired_at", optional=True)
        check.items("line_ids", str)
        check.items("details", Finding)

    @classmethod
    def ok(cls, rule: str, message: str = "") -> Finding:
        """A passing finding."""
        return cls(rule=rule, passed=True, message=message)

    @classmethod
    def fail(
        cls,
        rule: str,
        message: str,
        *,
        outcome: Outcome = Outcome.REJECT,
        expired_at: datetime | None = None,
        line_ids: Iterable[str] = (),
    ) -> Finding:
        """A failing finding asking for ``outcome`` (reject unless told otherwise)."""
        return cls(rule=rule, passed=False, message=message, outcome=outcome,
                   expired_at=expired_at, line_ids=tuple(line_ids))


#: What a rule is: facts in, a finding out.
Rule = Callable[[Facts], Finding]


def _check_window(name: str, value: object) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidRecord(f"{name} must be a non-negative timedelta", value=value,
                            field=name)
    return value


@attrs.frozen
class _ReturnWindow:
    changed_mind: timedelta
    merchant_fault: timedelta

    def __call__(self, facts: Facts) -> Finding:
        delivered = facts.fulfilment.delivered_at
        if delivered is None:
            return Finding.ok("return_window", "not delivered yet: the window has not started")
        fault = facts.request.reason.merchant_fault
        window = self.merchant_fault if fault else self.changed_mind
        expires = delivered + window
        kind = "merchant-fault" if fault else "changed-mind"
        if facts.request.requested_at > expires:
            return Finding.fail(
                "return_window",
                f"the {window.days}-day {kind} window closed on {expires.isoformat()}",
                expired_at=expires,
            )
        return Finding.ok(
            "return_window",
            f"within the {window.days}-day {kind} window (until {expires.isoformat()})")


def return_window(
    *,
    changed_mind: timedelta = DEFAULT_CHANGED_MIND_WINDOW,
    merchant_fault: timedelta = DEFAULT_MERCHANT_FAULT_WINDOW,
) -> Rule:
    """Requests must come within a window counted from delivery.

    The window depends on the reason: ``changed_mind`` for reasons that are
    not the merchant's fault (changed mind, size, duplicate order, other),
    ``merchant_fault`` for quality problems and the like. Before delivery the
    window has not started and the rule passes. A late request fails with
    ``expired_at`` set to the moment the window closed.

    Raises:
        InvalidRecord: a window that is not a non-negative ``timedelta``.
    """
    return _ReturnWindow(_check_window("changed_mind", changed_mind),
                         _check_window("merchant_fault", merchant_fault))


@attrs.frozen
class _OrderState:
    def __call__(self, facts: Facts) -> Finding:
        if (facts.fulfilment.state is OrderState.NOT_SHIPPED
                and facts.request.kind is not ReturnKind.REFUND_ONLY):
            return Finding.fail(
                "order_state", "nothing has shipped yet: there is nothing to send back; "
                "ask for a refund only")
        return Finding.ok("order_state", f"order is {facts.fulfilment.state.value}")


def order_state() -> Rule:
    """Before anything has shipped, only a refund-only request makes sense."""
    return _OrderState()


_NOT_RETURNABLE = frozenset({GoodsCategory.CUSTOM_MADE, GoodsCategory.PERISHABLE,
                             GoodsCategory.DIGITAL, GoodsCategory.HYGIENE})


@attrs.frozen
class _ReturnableGoods:
    categories: frozenset[GoodsCategory]
    unless_merchant_fault: bool

    def __call__(self, facts: Facts) -> Finding:
        request = facts.request
        if facts.fulfilment.state is OrderState.NOT_SHIPPED:
            return Finding.ok("returnable_goods", "nothing shipped: goods kind does not matter")
        if self.unless_merchant_fault and request.reason.merchant_fault:
            return Finding.ok("returnable_goods", "merchant's fault: any goods may come back")
        barred = []
        for item in request.lines:
            line = facts.order.line(item.order_line_id)
            if not line.returnable or line.category in self.categories:
                barred.append(line)
        if barred:
            names = ", ".join(f"{line.id} ({line.category.value})" for line in barred)
            return Finding.fail("returnable_goods", f"not returnable for this reason: {names}",
                                line_ids=[line.id for line in barred])
        return Finding.ok("returnable_goods", "all lines are returnable")


def returnable_goods(
    *,
    categories: Iterable[GoodsCategory] = _NOT_RETURNABLE,
    unless_merchant_fault: bool = True,
) -> Rule:
    """Lines that are not returnable, or of a barred category, cannot come back.

    Custom-made, perishable, digital and hygiene goods are barred by default,
    as is any line marked ``returnable=False``. When the merchant is at fault
    (a defect, a wrong item) the bar is lifted unless
    ``unless_merchant_fault=False``; before shipment it does not apply.
    """
    chosen = frozenset(categories)
    for category in chosen:
        if not isinstance(category, GoodsCategory):
            raise InvalidRecord("categories must hold GoodsCategory members", value=category,
                                field="categories")
    return _ReturnableGoods(chosen, bool(unless_merchant_fault))


def _spoken_for(facts: Facts, statuses: frozenset[RequestStatus]) -> Counter[str]:
    taken: Counter[str] = Counter()
    for prior in facts.history.requests:
        if prior.request.id == facts.request.id or prior.status not in statuses:
            continue
        for item in prior.request.lines:
            taken[item.order_line_id] += item.quantity
    return taken


@attrs.frozen
class _QuantityAvailable:
    def __call__(self, facts: Facts) -> Finding:
        taken = _spoken_for(facts, frozenset({RequestStatus.OPEN, RequestStatus.COMPLETED}))
        short = []
        ids = []
        for item in facts.request.lines:
            line = facts.order.line(item.order_line_id)
            left = line.quantity - taken[line.id]
            if item.quantity > left:
                short.append(f"{line.id}: asks {item.quantity}, {left} of {line.quantity} left")
                ids.append(line.id)
        if short:
            return Finding.fail(
                "quantity_available", "more than is still returnable: " + "; ".join(short),
                line_ids=ids)
        return Finding.ok("quantity_available", "every quantity is still returnable")


def quantity_available() -> Rule:
    """Each line asks no more than ordered minus what other requests returned or hold."""
    return _QuantityAvailable()


@attrs.frozen
class _NoOpenRequest:
    def __call__(self, facts: Facts) -> Finding:
        asked = {item.order_line_id for item in facts.request.lines}
        clashes = []
        for prior in facts.history.requests:
            if prior.status is not RequestStatus.OPEN or prior.request.id == facts.request.id:
                continue
            lines = sorted(asked & {item.order_line_id for item in prior.request.lines})
            if lines:
                clashes.append((prior.request.id, lines))
        if clashes:
            text = "; ".join(f"{rid} already covers {', '.join(ls)}" for rid, ls in clashes)
            return Finding.fail("no_open_request", f"an open request exists: {text}",
                                line_ids=sorted({i for _, ls in clashes for i in ls}))
        return Finding.ok("no_open_request", "no other open request covers these lines")


def no_open_request() -> Rule:
    """No other open request on the order may already cover one of the lines asked for."""
    return _NoOpenRequest()


def _combine(name: str, findings: tuple[Finding, ...], *, passed: bool) -> Finding:
    if passed:
        return Finding(rule=name, passed=True, message="; ".join(
            f.message for f in findings if f.passed and f.message), details=findings)
    failed = [f for f in findings if not f.passed]
    outcome = Outcome.REJECT if any(f.outcome is Outcome.REJECT for f in failed) else (
        Outcome.REVIEW)
    expired = [f.expired_at for f in failed if f.expired_at is not None]
    line_ids = sorted({i for f in failed for i in f.line_ids})
    return Finding(rule=name, passed=False, message="; ".join(f.message for f in failed),
                   outcome=outcome, expired_at=min(expired) if expired else None,
                   line_ids=tuple(line_ids), details=findings)


@attrs.frozen
class _AllOf:
    rules: tuple[Rule, ...]
    name: str

    def __call__(self, facts: Facts) -> Finding:
        findings = tuple(rule(facts) for rule in self.rules)
        return _combine(self.name, findings, passed=all(f.passed for f in findings))


@attrs.frozen
class _AnyOf:
    rules: tuple[Rule, ...]
    name: str

    def __call__(self, facts: Facts) -> Finding:
        findings = tuple(rule(facts) for rule in self.rules)
        return _combine(self.name, findings, passed=any(f.passed for f in findings))


def _rules(rules: tuple[Rule, ...], name: str) -> tuple[Rule, ...]:
    if not rules:
        raise InvalidRecord("give at least one rule", value=rules, field="rules")
    for rule in rules:
        if not callable(rule):
            raise InvalidRecord("a rule must be callable", value=rule, field="rules")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRecord("name must be a non-blank str", value=name, field="name")
    return rules


def all_of(*rules: Rule, name: str = "all_of") -> Rule:
    """A rule that passes when every one of ``rules`` passes.

    A failure carries every failed finding's message; it asks for rejection
    if any part does, else for review. All parts are kept in ``details``.
    """
    return _AllOf(_rules(rules, name), name)


def any_of(*rules: Rule, name: str = "any_of") -> Rule:
    """A rule that passes when at least one of ``rules`` passes."""
    return _AnyOf(_rules(rules, name), name)


def default_rules() -> tuple[Rule, ...]:
    """The rules :class:`~refundcore.policy.ReturnPolicy` applies unless told otherwise.

    Order state, a 7-day changed-mind / 15-day merchant-fault window from
    delivery, non-returnable goods, quantity still returnable, and no other
    open request on the same lines.
    """
    return (order_state(), return_window(), returnable_goods(), quantity_available(),
            no_open_request())


def check_all(facts: Facts, rules: Iterable[Rule]) -> tuple[Finding, ...]:
    """Run every rule on ``facts`` and return all findings, passed or not.

    Raises:
        InvalidRecord: a rule returned something other than a :class:`Finding`.
    """
    findings = []
    for rule in rules:
        finding = rule(facts)
        if not isinstance(finding, Finding):
            raise InvalidRecord("a rule must return a Finding", value=finding, field="rules")
        findings.append(finding)
    return tuple(findings)
