"""Money safety in a return case: negotiated refunds, exchanges, refund on scan, overdue."""

from __future__ import annotations

import pytest

from refundcore import Money, ReturnKind
from refundcore.errors import InvalidRecord, InvalidTransition
from refundcore.lifecycle import Negotiated, ReturnCase, replay_many
from strategies_lifecycle import NOTHING, QUOTE, T0, Script, cny, inspection


def opened(script: Script) -> ReturnCase:
    return ReturnCase.open(script.requested())


def test_a_negotiated_partial_refund_closes_the_case() -> None:
    """20.00 agreed on a 100.00 quote: refunding 20.00 settles the case (协商退款)."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = opened(s)
    case.apply(s.approved())
    case.apply(s.negotiated(cny("20.00")))
    assert (case.state, case.limit) == ("refund_pending", cny("20.00"))
    for event in (s.issued("F1", cny("20.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert (case.state, case.refunded) == ("refunded", cny("20.00"))
    case.apply(s.closed())
    assert case.state == "closed"
    assert replay_many(case.history).cases["R1"] == case.snapshot()


def test_an_agreement_before_the_parcel_replaces_the_return() -> None:
    """Agreeing on part of the quote before anything is sent back: the buyer keeps the goods."""
    for before in ([], [Script.escalated], [Script.approved]):
        s = Script()
        case = opened(s)
        for make in before:
            case.apply(make(s))
        case.apply(s.negotiated(cny("30.00")))
        assert (case.state, case.limit) == ("refund_pending", cny("30.00"))
        with pytest.raises(InvalidTransition) as caught:
            case.apply(s.issued("F1", cny("30.01")))
        assert caught.value.guard == "refund_within_limit"


def test_an_agreement_after_inspection_lowers_what_is_owed() -> None:
    """After inspection, an agreement lowers the limit and the case waits for that refund."""
    s = Script()
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(), s.inspected()):
        case.apply(event)
    case.apply(s.negotiated(cny("60.00")))
    assert (case.state, case.limit) == ("inspected", cny("60.00"))
    for event in (s.issued("F1", cny("60.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert case.state == "refunded"


def test_an_agreement_reached_after_the_money_went_out_settles_at_once() -> None:
    """20.00 paid out, then 20.00 agreed: the case is refunded there and then."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = opened(s)
    for event in (s.approved(), s.issued("F1", cny("20.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert case.state == "refund_pending"
    case.apply(s.negotiated(cny("25.00")))
    assert (case.state, case.limit) == ("refund_pending", cny("25.00"))
    case.apply(s.negotiated(cny("20.00")))
    assert case.state == "refunded"


def test_an_agreement_must_fit_the_quote_and_the_refunds() -> None:
    """An agreement above the quote, in another currency or below what is issued is refused."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = opened(s)
    case.apply(s.approved())
    case.apply(s.issued("F1", cny("40.00")))
    for amount, guard in ((cny("100.01"), "agreed_within_quote"),
                          (Money.of("10", "USD"), "agreed_within_quote"),
                          (cny("39.99"), "agreed_covers_refunds")):
        before = case.snapshot()
        with pytest.raises(InvalidTransition) as caught:
            case.apply(s.negotiated(amount))
        assert caught.value.guard == guard
        assert case.snapshot() == before
    with pytest.raises(InvalidRecord) as refused:
        Negotiated(id="n", case_id="R1", at=T0, actor="m", amount=cny("0"))
    assert refused.value.field == "amount"
    with pytest.raises(InvalidRecord) as refused:
        Negotiated(id="n", case_id="R1", at=T0, actor="m", amount=cny("1"), note=None)  # type: ignore[arg-type]
    assert refused.value.field == "note"


def test_an_exchange_ships_a_replacement_and_refunds_nothing() -> None:
    """An exchange (换货) is inspected, then ends exchanged when the replacement ships."""
    s = Script(kind=ReturnKind.EXCHANGE, quote=NOTHING)
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(),
                  s.inspected(refundable=NOTHING)):
        case.apply(event)
    assert case.allowed_events() == ("issue_refund", "negotiate", "ship_replacement")
    replacement = s.replacement_shipped()
    case.apply(replacement)
    assert (case.state, case.is_final, case.refunds) == ("exchanged", True, ())
    assert case.replacement == replacement.shipment
    assert replay_many(case.history).cases["R1"] == case.snapshot()
    assert ReturnCase.restore("exchanged", case.history).replacement == replacement.shipment


def test_only_an_exchange_ships_a_replacement() -> None:
    """A return for money cannot end in a replacement; nor can a replacement predate the request."""
    s = Script()
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(), s.inspected()):
        case.apply(event)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.replacement_shipped())
    assert caught.value.guard == "replacement_expected"
    assert case.replacement is None
    x = Script("X1", kind=ReturnKind.EXCHANGE, quote=NOTHING)
    exchange = opened(x)
    for event in (x.approved(), x.shipped_back(), x.received(), x.inspected(refundable=NOTHING)):
        exchange.apply(event)
    early = x.replacement_shipped()
    early = type(early)(id=early.id, case_id="X1", at=early.at, actor="m",
                        shipment=type(early.shipment)(carrier="SF", tracking_number="N",
                                                      shipped_at=T0.replace(year=2025)))
    with pytest.raises(InvalidTransition) as caught:
        exchange.apply(early)
    assert caught.value.guard == "shipped_after_request"


def test_an_exchange_inspection_quoting_money_is_refused() -> None:
    """An exchange quoted at nothing cannot be inspected into owing money."""
    s = Script(kind=ReturnKind.EXCHANGE, quote=NOTHING)
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.inspected(inspection("L1"), refundable=QUOTE))
    assert caught.value.guard == "refundable_within_quote"
