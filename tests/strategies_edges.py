"""Hypothesis strategies for the edges: ledger entries and statement lines with every field."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import strategies as st

from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.reconcile import LineKind, StatementLine

# Text a CSV cell must carry intact: any printable character, commas, quotes, CR and LF
# inside; surrounding whitespace is stripped by the ledger CSV, so none is generated.
_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
texts = st.text(st.one_of(_CHARS, st.sampled_from([",", '"', "\n", "\r", " "])),
                min_size=1, max_size=12).map(str.strip).filter(bool)
optional_texts = st.none() | texts
zones = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                         timezone(timedelta(hours=-4, minutes=-30)),
                         timezone(timedelta(hours=13, minutes=45))])
codes = st.sampled_from(["CNY", "JPY", "KWD", "USD", "CLF"])
minor = st.integers(-(10**12), 10**12)


@st.composite
def times(draw: st.DrawFn) -> datetime:
    """Aware times with microseconds, in zones with odd offsets too."""
    naive = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)))
    return naive.replace(tzinfo=draw(zones))


dates = st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@st.composite
def entries(draw: st.DrawFn, ident: str | None = None) -> LedgerEntry:
    """One ledger entry, every optional field present or not, components in Component order."""
    chosen = draw(st.lists(st.sampled_from(list(Component)), unique=True, max_size=3))
    components = tuple((c, draw(minor)) for c in Component if c in chosen)
    settles_on = draw(dates)
    window = None if settles_on is None else draw(st.none() | st.integers(0, 30))
    return LedgerEntry(
        id=ident if ident is not None else draw(texts),
        kind=draw(st.sampled_from(list(EntryKind))),
        amount_minor=draw(minor),
        currency=draw(codes),
        occurred_at=draw(times()),
        order_id=draw(optional_texts),
        reference=draw(optional_texts),
        fee_minor=draw(minor),
        settles_on=settles_on,
        payout_reference=draw(optional_texts),
        components=components,
        source_event_id=draw(optional_texts),
        settles_by=None if window is None else settles_on + timedelta(days=window),  # type: ignore[operator]
    )


def ledgers(max_size: int = 6) -> st.SearchStrategy[list[LedgerEntry]]:
    """Ledgers with unique ids."""
    return st.lists(texts, unique=True, max_size=max_size).flatmap(
        lambda ids: st.tuples(*(entries(i) for i in ids)).map(list)
    )


@st.composite
def lines(draw: st.DrawFn, ident: str | None = None) -> StatementLine:
    """One statement line with every optional field present or not, and a raw row."""
    gross, fee = draw(minor), draw(minor)
    raw = draw(st.lists(st.tuples(texts, st.none() | texts | st.integers()), max_size=3))
    return StatementLine(
        id=ident if ident is not None else draw(texts),
        kind=draw(st.sampled_from(list(LineKind))),
        gross_minor=gross,
        currency=draw(codes),
        occurred_at=draw(times()),
        reference=draw(optional_texts),
        order_id=draw(optional_texts),
        fee_minor=fee,
        net_minor=gross - fee,
        settled_on=draw(dates),
        payout_reference=draw(optional_texts),
        raw_type=draw(optional_texts),
        raw=tuple(raw),
    )


def statements(max_size: int = 6) -> st.SearchStrategy[list[StatementLine]]:
    """Statements with unique line ids."""
    return st.lists(texts, unique=True, max_size=max_size).flatmap(
        lambda ids: st.tuples(*(lines(i) for i in ids)).map(list)
    )
