"""Records to JSON-ready dicts and back: exact for every type, strict about what it reads."""

from __future__ import annotations

import enum
import gc
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import EntryKind, FineMoney, InvalidRecord, Money, Refund
from refundcore.ledger import LedgerEntry
from refundcore.lifecycle import Event, RefundIssued, ReturnCase
from refundcore.persist import SCHEMA_VERSION, StoredCase, from_dict, serialisable_types, to_dict
from refundcore.reconcile import LineKind, StatementLine
from strategies_edges import codes
from strategies_lifecycle import Script
from strategies_persist import SPECIAL, records

T0 = datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=8)))
OURS = sorted(name for name, cls in serialisable_types().items()
              if cls.__module__.startswith("refundcore"))


def json_ready(value: object) -> bool:
    """Whether ``value`` is made only of str, int, bool, None, lists and str-keyed dicts."""
    if value is None or isinstance(value, (str, bool, int)):
        return not isinstance(value, float)
    if isinstance(value, list):
        return all(json_ready(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and json_ready(v) for k, v in value.items())
    return False


def assert_round_trip(record: object) -> dict[str, Any]:
    data = to_dict(record)
    assert json_ready(data)
    assert data["schema"] == SCHEMA_VERSION
    assert data["type"] == type(record).__name__
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    back = from_dict(json.loads(text), expect=type(record))
    assert back == record
    assert type(back) is type(record)
    assert to_dict(back) == data  # offsets, scales and defaults survive, not just equality
    return data


def test_every_type_of_the_package_is_serialisable() -> None:
    """The registry holds the domain records, every event, ledger and statement records."""
    expected = {"Order", "OrderLine", "Tender", "Discount", "Shipment", "ReturnRequest",
                "ReturnLine", "Inspection", "Refund", "Event", "Requested", "RefundIssued",
                "DeadlinePassed", "OrderShipped", "LedgerEntry", "StatementLine", "CaseState",
                "StoredCase", "Deadlines"}
    assert expected <= set(OURS)
    every_event = [cls.__name__ for cls in _subclasses(Event)
                   if not cls.__name__.startswith("_") and cls.__module__.startswith("refundcore")]
    assert set(every_event) <= set(OURS)


def _subclasses(cls: type) -> list[type]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


def test_hand_written_strategies_name_real_types() -> None:
    """Every hand-written strategy is for a type the registry lists (none is stale)."""
    assert set(SPECIAL) <= set(OURS)


@pytest.mark.slow  # about a second of CPU per type
@pytest.mark.parametrize("name", OURS)
@settings(max_examples=500)
@given(data=st.data())
def test_every_type_round_trips_exactly(name: str, data: st.DataObject) -> None:
    """Each serialisable type survives to_dict, JSON text and from_dict unchanged."""
    record = data.draw(records(serialisable_types()[name]))
    assert_round_trip(record)


@settings(max_examples=500)
@given(amount=st.one_of(
    codes.flatmap(lambda code: st.integers(-(10**15), 10**15).map(
        lambda minor: Money.from_minor(minor, code))),
    st.builds(lambda units, extra, code: FineMoney(units, Money.zero(code).exponent + extra, code),
              st.integers(-(10**15), 10**15), st.integers(0, 8), codes)))
def test_money_is_written_as_its_exact_amount_and_read_back_at_its_scale(
        amount: Money | FineMoney) -> None:
    """Any Money or FineMoney (negative, zero, any scale) comes back equal, scale and all."""
    event = Valued(id="E1", case_id="R1", at=T0, actor="a", fine=amount if isinstance(
        amount, FineMoney) else None, money=amount if isinstance(amount, Money) else None)
    data = assert_round_trip(event)
    back = from_dict(data, expect=Valued)
    if isinstance(amount, FineMoney):
        assert back.fine.scale == amount.scale
        assert data["fine"] == str(amount)
    else:
        assert data["money"] == str(amount)


@attrs.frozen(kw_only=True)
class Valued(Event):
    """An event of the tests' own, with one field of every kind the codec writes."""

    money: Money | None = None
    fine: FineMoney | None = None
    ratio: Fraction = Fraction(0)
    decimal: Decimal = Decimal(0)
    delay: timedelta = timedelta(0)
    day: date | None = None
    pair: tuple[str, int] = ("", 0)
    counts: Mapping[str, int] = attrs.field(factory=dict)
    refund: Refund | None = None



@settings(max_examples=500)
@given(event=st.builds(
    Valued, id=st.just("E1"), case_id=st.just("R1"), at=st.just(T0), actor=st.just("a"),
    ratio=st.fractions(), decimal=st.decimals(allow_nan=False, allow_infinity=False),
    delay=st.timedeltas(), day=st.none() | st.dates(),
    pair=st.tuples(st.text(), st.integers()),
    counts=st.dictionaries(st.text(), st.integers(), max_size=3)))
def test_an_event_of_your_own_round_trips_with_every_kind_of_value(event: Valued) -> None:
    """An Event subclass defined outside refundcore is found, and its fields survive."""
    assert_round_trip(event)


def test_money_is_a_string_of_its_amount_and_times_keep_their_offset() -> None:
    """The JSON form reads as a person would write it: '158.00 CNY', ISO times with offsets."""
    event = Script().issued("F1", Money.of("158.00", "CNY"))
    data = to_dict(event)
    assert data["refund"]["amount"] == "158.00 CNY"
    assert data["refund"]["type"] == "Refund"
    assert "schema" not in data["refund"]  # only the top level says the schema
    assert data["at"].endswith("+00:00")
    entry = LedgerEntry(id="L1", kind=EntryKind.SALE, amount_minor=100, currency="JPY",
                        occurred_at=T0, settles_on=date(2026, 3, 9))
    written = to_dict(entry)
    assert written["occurred_at"] == "2026-03-01T09:00:00+08:00"
    assert written["settles_on"] == "2026-03-09"
    assert written["kind"] == "sale"


# -- refusals -------------------------------------------------------------------------------


def _refund_dict() -> dict[str, Any]:
    return to_dict(Script().issued("F1", Money.of("158.00", "CNY")))


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d.pop("schema"), "schema", "schema version"),
    (lambda d: d.update(schema=SCHEMA_VERSION + 1), "schema", "newer refundcore"),
    (lambda d: d.update(schema=True), "schema", "schema version"),
    (lambda d: d.update(schema=0), "schema", "schema version"),
    (lambda d: d.update(type="RefundIssuedLater"), "type", "known record type"),
    (lambda d: d.pop("type"), "type", "known record type"),
    (lambda d: d.update(colour="red"), "colour", "no field of RefundIssued"),
    (lambda d: d.pop("actor"), "actor", "missing"),
    (lambda d: d["refund"].update(amount=158.0), "refund.amount", "must be a str"),
    (lambda d: d["refund"].update(amount="158.001 CNY"), "refund.amount", "no exact amount"),
    (lambda d: d["refund"].update(amount="158.00 XXX"), "refund.amount", "no exact amount"),
    (lambda d: d["refund"].update(amount="158.00"), "refund.amount", "like '158.00 CNY'"),
    (lambda d: d["refund"].update(method="cash"), "refund.method", "RefundMethod value"),
    (lambda d: d["refund"].update(type="Shipment"), "refund.type", "must be a Refund"),
    (lambda d: d["refund"].update(tender_id=7), "refund.tender_id", "must be a str"),
    (lambda d: d.update(refund="F1"), "refund", "must be a dict"),
    (lambda d: d.update(at="2026-03-01T09:00:00"), "at", "offset"),
    (lambda d: d.update(at="yesterday"), "at", "ISO 8601"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_dict_is_refused_naming_the_field(change: Any, field: str, words: str) -> None:
    """Schema, type tag, unknown and missing fields and bad values are refused with the path."""
    data = _refund_dict()
    change(data)
    with pytest.raises(InvalidRecord) as caught:
        from_dict(data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_the_error_names_the_record_and_its_id() -> None:
    """A bad nested field is reported against the top record and its id."""
    data = _refund_dict()
    data["refund"]["amount"] = "one hundred CNY"
    with pytest.raises(InvalidRecord, match=r"RefundIssued 'R1-e1', field 'refund.amount'"):
        from_dict(data)


def test_a_left_out_field_with_a_default_takes_the_default() -> None:
    """Older data without a field added later (with a default) still reads."""
    data = _refund_dict()
    del data["refund"]["return_id"]
    assert from_dict(data).refund.return_id is None


def test_a_record_of_another_type_than_expected_is_refused() -> None:
    """``expect`` pins the type: a Refund where an event is expected is refused."""
    with pytest.raises(InvalidRecord, match="must be a Event"):
        from_dict(to_dict(Refund(id="F1", amount=Money.of("1", "CNY"), tender_id="T")),
                  expect=Event)


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"schema": 1, "type": "LedgerEntry", "id": "L", "kind": "sale", "amount_minor": True,
      "currency": "CNY", "occurred_at": "2026-03-01T09:00:00+08:00"}, "amount_minor", "an int"),
    ({"schema": 1, "type": "LedgerEntry", "id": "L", "kind": "sale", "amount_minor": 1,
      "currency": "CNY", "occurred_at": "2026-03-01T09:00:00+08:00", "settles_on": "soon"},
     "settles_on", "ISO 8601 date"),
    ({"schema": 1, "type": "LedgerEntry", "id": "L", "kind": "sale", "amount_minor": 1,
      "currency": "CNY", "occurred_at": "2026-03-01T09:00:00+08:00",
      "components": [["goods"]]}, "components[0]", "list of 2 items"),
    ({"schema": 1, "type": "LedgerEntry", "id": "L", "kind": "sale", "amount_minor": 1,
      "currency": "CNY", "occurred_at": "2026-03-01T09:00:00+08:00",
      "components": "goods"}, "components", "must be a list"),
    ({"schema": 1, "type": "StatementLine", "id": "S", "kind": "charge", "gross_minor": 1,
      "currency": "CNY", "occurred_at": "2026-03-01T09:00:00+08:00", "raw": [1.5]},
     "raw[0]", "str, int, bool, null"),
    ({"schema": 1, "type": "Deadlines", "merchant_response": "two days"},
     "merchant_response", "duration"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "ratio": "1/0"}, "ratio", "fraction"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "decimal": "NaN"}, "decimal", "finite"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "decimal": "lots"}, "decimal", "decimal number"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "counts": [1]}, "counts", "must be a dict"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "fine": "0.001 CNYY"}, "fine", "no exact amount"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "refund": "F1"}, "refund", "does not fit"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "day": "2026-13-01"}, "day", "ISO 8601 date"),
    ({"schema": 1, "type": "Valued", "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00Z",
      "actor": "a", "refund": True}, "refund", "does not fit"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_values_of_every_kind_are_refused(data: dict[str, Any], field: str,
                                              words: str) -> None:
    """Each kind of value refuses a JSON value of the wrong shape, naming the field."""
    with pytest.raises(InvalidRecord) as caught:
        from_dict(data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_not_a_dict_is_refused() -> None:
    """from_dict takes a dict only."""
    with pytest.raises(InvalidRecord, match="must be a dict"):
        from_dict([])  # type: ignore[arg-type]


def test_a_record_breaking_its_own_rules_is_refused_by_its_constructor() -> None:
    """Reading builds through the constructor, so a record's rules hold after reading."""
    data = _refund_dict()
    data["refund"]["amount"] = "0.00 CNY"
    with pytest.raises(InvalidRecord, match="'amount': must be positive"):
        from_dict(data)


# -- what cannot be written -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Floaty(Event):
    """An event with a float: money must never go through one."""

    rate: float = 0.5


@attrs.frozen(kw_only=True)
class Ambiguous(Event):
    """An event with a union that has no single JSON form."""

    value: str | int = 1


@attrs.frozen(kw_only=True)
class Loose(Event):
    """An event with a field of any type."""

    extra: Any = None


@attrs.frozen(kw_only=True)
class Tagged(Event):
    """An event with a set, which has no JSON form here."""

    tags: frozenset[str] = frozenset()


@pytest.mark.parametrize(("record", "field", "words"), [
    (Floaty(id="E", case_id="R", at=T0, actor="a"), "rate", "no JSON form (float)"),
    (Ambiguous(id="E", case_id="R", at=T0, actor="a"), "value", "no single JSON form"),
    (Loose(id="E", case_id="R", at=T0, actor="a", extra=1.5), "extra", "no exact JSON form"),
    (Loose(id="E", case_id="R", at=T0, actor="a", extra=(1, [Decimal(1)])), "extra[1][0]",
     "no exact JSON form"),
    (Tagged(id="E", case_id="R", at=T0, actor="a"), "tags",
     "no JSON form"),
    (Valued(id="E", case_id="R", at=T0, actor="a", decimal=Decimal("Infinity")), "decimal",
     "finite"),
    (Valued(id="E", case_id="R", at=T0, actor="a", day=T0), "day", "not a datetime"),
    (Valued(id="E", case_id="R", at=T0, actor="a", pair=("x",)), "pair", "must be a tuple"),
    (Valued(id="E", case_id="R", at=T0, actor="a", pair=("x", True)), "pair[1]", "not a bool"),
    (Valued(id="E", case_id="R", at=T0, actor="a", pair=["x", 1]), "pair", "must be a tuple"),
    (Valued(id="E", case_id="R", at=T0, actor="a", counts={1: 2}), "counts", "str keys"),
    (Valued(id="E", case_id="R", at=T0, actor="a", money="1 CNY"), "money", "must be a Money"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_value_with_no_exact_json_form_is_refused_naming_the_field(
        record: Event, field: str, words: str) -> None:
    """Floats, ambiguous unions, unknown types and values of the wrong type are not written."""
    with pytest.raises(InvalidRecord) as caught:
        to_dict(record)
    assert caught.value.field == field
    assert caught.value.record == type(record).__name__
    assert words in str(caught.value)


def test_a_field_of_any_type_keeps_plain_values_and_tuples() -> None:
    """str, int, bool, None and tuples of them survive in a field typed Any."""
    event = Loose(id="E", case_id="R", at=T0, actor="a", extra=("k", (1, True, None)))
    data = to_dict(event)
    assert data["extra"] == ["k", [1, True, None]]
    assert from_dict(data) == event


def test_an_object_of_no_serialisable_type_is_refused() -> None:
    """Only the registry's types are written; the error says so."""
    with pytest.raises(InvalidRecord, match="not a serialisable record type"):
        to_dict(object())
    with pytest.raises(InvalidRecord, match="not a serialisable record type"):
        to_dict(_Hidden(id="E", case_id="R", at=T0, actor="a"))


@attrs.frozen(kw_only=True)
class _Hidden(Event):
    """A private event type: not in the registry."""


def test_two_types_of_one_name_are_refused_rather_than_confused() -> None:
    """When two event types share a name, neither is written or read."""

    @attrs.frozen(kw_only=True)
    class Twin(Event):
        """One twin."""

    first = Twin

    @attrs.frozen(kw_only=True)
    class Twin(Event):  # type: ignore[no-redef]
        """The other twin."""

    assert "Twin" not in serialisable_types()
    with pytest.raises(InvalidRecord, match="two serialisable types share this name"):
        to_dict(first(id="E", case_id="R", at=T0, actor="a"))


def test_a_stored_case_round_trips_with_its_whole_history() -> None:
    """A stored case becomes one dict with its events inside, and restores the same case."""
    script = Script()
    case = ReturnCase.open(script.requested())
    for event in (script.approved(), script.shipped_back(), script.received(),
                  script.inspected(), script.issued()):
        case.apply(event)
    stored = StoredCase.of(case)
    data = assert_round_trip(stored)
    assert [event["type"] for event in data["history"]][-1] == RefundIssued.__name__
    again = from_dict(data, expect=StoredCase).restore()
    assert again.snapshot() == case.snapshot()


def test_statement_raw_rows_round_trip() -> None:
    """A statement line's raw row (pairs of text and values) is kept as nested lists."""
    line = StatementLine(id="S1", kind=LineKind.CHARGE, gross_minor=100, currency="CNY",
                         occurred_at=T0, raw=(("金额", "1.00"), ("备注", None), ("n", 3)))
    data = assert_round_trip(line)
    assert data["raw"] == [["金额", "1.00"], ["备注", None], ["n", 3]]


def test_the_husk_of_a_slotted_event_class_is_not_taken_for_a_second_type() -> None:
    """An event class still has its pre-slots husk until collected; it is not a twin."""
    gc.disable()
    try:
        @attrs.frozen(kw_only=True)
        class Husked(Event):
            """An event defined while the collector is off."""

        husks = [cls for cls in Event.__subclasses__() if cls.__name__ == "Husked"]
        assert len(husks) == 2  # the class and its husk
        assert serialisable_types()["Husked"] is Husked
        assert_round_trip(Husked(id="E", case_id="R", at=T0, actor="a"))
    finally:
        gc.enable()


class Colour(enum.Enum):
    """An enum whose values are not JSON (tuples)."""

    RED = (255, 0, 0)


@attrs.frozen(kw_only=True)
class Odd(Event):
    """An event with fields of rare kinds."""

    nothing: None = None
    when: datetime | None = None
    colour: Colour | None = None
    flag: bool = False


@pytest.mark.parametrize(("record", "field", "words"), [
    (Odd(id="E", case_id="R", at=T0, actor="a", nothing=1), "nothing", "must be None"),  # type: ignore[arg-type]
    (Odd(id="E", case_id="R", at=T0, actor="a", when=datetime(2026, 3, 1)), "when",
     "timezone-aware"),
    (Odd(id="E", case_id="R", at=T0, actor="a", colour=Colour.RED), "colour", "no JSON form"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_rare_values_with_no_json_form_are_refused(record: Event, field: str,
                                                   words: str) -> None:
    """A value where None is declared, a naive time, an enum of tuples: refused, named."""
    with pytest.raises(InvalidRecord) as caught:
        to_dict(record)
    assert caught.value.field == field
    assert words in str(caught.value)


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"type": "Odd", "nothing": 1}, "nothing", "must be null"),
    ({"type": "Odd", "flag": "yes"}, "flag", "must be a bool"),
    ({"type": "Tagged", "tags": ["x"]}, "tags", "no JSON form"),
    ({"type": "Odd", "colour": [255, 0, 0]}, "colour", "must be a Colour value"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_rare_values_are_refused_when_read(data: dict[str, Any], field: str,
                                           words: str) -> None:
    """Reading checks None-only fields, bools and types with no JSON form too."""
    base = {"schema": 1, "id": "E", "case_id": "R", "at": "2026-03-01T09:00:00+08:00",
            "actor": "a"}
    with pytest.raises(InvalidRecord) as caught:
        from_dict({**base, **data})
    assert caught.value.field == field
    assert words in str(caught.value)


def test_a_nested_record_in_an_optional_field_round_trips() -> None:
    """A record inside an optional field is written tagged and read back by its tag."""
    event = Valued(id="E", case_id="R", at=T0, actor="a",
                   refund=Refund(id="F1", amount=Money.of("1.00", "CNY"), tender_id="T1"))
    data = assert_round_trip(event)
    assert data["refund"]["type"] == "Refund"
    assert to_dict(Odd(id="E", case_id="R", at=T0, actor="a", when=T0))["when"] == (
        "2026-03-01T09:00:00+08:00")
