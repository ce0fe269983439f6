"""Refunds not paid out in time (退款处理不及时): a report over many cases, not a transition.

Once a case owes the buyer money, the merchant (or the platform) has
:attr:`Deadlines.refund_processing` to pay it out. No platform pays it out
for the merchant when that runs out, so ``tick`` fires nothing for it:
:func:`overdue` lists the cases past it, for a person or a job to chase.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from refundcore.errors import InvalidArgument, InvalidRecord
from refundcore.lifecycle.case import ReturnCase
from refundcore.lifecycle.deadlines import Deadline
from refundcore.money import Money

__all__ = ["Overdue", "overdue"]


@attrs.frozen(kw_only=True)
class Overdue:
    """One case whose refund is overdue.

    Attributes:
        case_id: The case.
        deadline: What is overdue (:attr:`Deadline.REFUND_PROCESSING`).
        state: The case's state (``inspected`` or ``refund_pending``).
        due_since: When the refund became due.
        overdue_since: When the time to pay it out ran out.
        late_by: How long ago that was.
        outstanding: What the case may still pay out: its limit less the
            refunds paid out.
    """

    case_id: str
    deadline: Deadline
    state: str
    due_since: datetime
    overdue_since: datetime
    late_by: timedelta
    outstanding: Money


def overdue(cases: Iterable[ReturnCase], now: datetime) -> tuple[Overdue, ...]:
    """The cases whose refund is not paid out in time (退款处理不及时), longest overdue first.

    A case is overdue when it owes the buyer money (``inspected`` or
    ``refund_pending``, with less paid out than it may refund) and more
    than its :attr:`Deadlines.refund_processing` has passed by ``now`` since
    the refund became due (:attr:`ReturnCase.refund_due_since`). An exchange
    owes no money and is never listed.

    Args:
        cases: The cases to look at.
        now: The current time (timezone-aware); the library never reads the clock.

    Returns:
        One record per overdue case, sorted by when it became overdue, then by case id.

    Raises:
        InvalidRecord: ``now`` is not a timezone-aware datetime.
        InvalidArgument: something in ``cases`` is not a :class:`ReturnCase`
            (also a ``TypeError``).
    """
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise InvalidRecord("must be a timezone-aware datetime", value=now, field="now")
    found = []
    for case in cases:
        if not isinstance(case, ReturnCase):
            raise InvalidArgument("must hold only ReturnCase objects", value=case,
                                  field="cases")
        since = case.refund_due_since
        outstanding = case.limit - case.refunded
        if since is None or not outstanding:
            continue
        due_at = since + case.deadlines.refund_processing
        if now > due_at:
            found.append(Overdue(case_id=case.case_id, deadline=Deadline.REFUND_PROCESSING,
                                 state=case.state, due_since=since, overdue_since=due_at,
                                 late_by=now - due_at, outstanding=outstanding))
    found.sort(key=lambda item: (item.overdue_since, item.case_id))
    return tuple(found)
