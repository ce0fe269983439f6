"""DataFrames: ledger entries, statement lines and reconciliations to and from pandas and polars.

pandas and polars are optional (``pip install 'refundcore[dataframe]'`` for
pandas, ``'refundcore[polars]'`` for polars); each function imports its
library when called and says which extra to install when it is missing.

One row per record, one column per field, named as the record's fields
(:attr:`LedgerEntry.TUPLE_FIELDS <refundcore.ledger.LedgerEntry.TUPLE_FIELDS>`,
:attr:`StatementLine.TUPLE_FIELDS <refundcore.reconcile.StatementLine.TUPLE_FIELDS>`),
so that a round trip is exact:

* amounts are **integer minor units** (``amount_minor``, ``gross_minor``,
  ``fee_minor``, ``net_minor``) in a nullable ``Int64`` column, beside the
  ``currency`` column; never floats;
* ``kind`` is the enum's value (``"sale"``, ``"charge"``);
* times are timezone-aware UTC (``datetime64[us, UTC]`` / ``Datetime("us",
  "UTC")``): the instant is exact, the original offset is not kept;
* dates are ``datetime.date`` objects (pandas) or ``Date`` (polars);
* a ledger entry's components become ``component_<name>`` ``Int64``
  columns (empty where the entry has none) and read back in
  :class:`~refundcore.ledger.Component` order;
* a statement line's ``raw`` row is kept as a Python object column.

The ``from_*`` functions accept any of those columns in any order, leave
optional fields out when their column is absent, refuse unknown columns, and
check every row as :meth:`~refundcore.ledger.LedgerEntry.from_tuples` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final, TypeVar, Union

from refundcore.errors import InvalidRecord
from refundcore.ledger import Component, LedgerEntry
from refundcore.reconcile import Reconciliation, StatementLine

__all__ = [
    "from_pandas",
    "from_polars",
    "reconciliation_to_pandas",
    "reconciliation_to_polars",
    "to_pandas",
    "to_polars",
]

Record = TypeVar("Record", LedgerEntry, StatementLine)
_Kind = Union[type[LedgerEntry], type[StatementLine]]  # noqa: UP007 -- a runtime alias on 3.10

_COMPONENTS: Final = {f"component_{c.value}": c for c in Component}
_LEDGER_COLUMNS: Final = (
    *(f for f in LedgerEntry.TUPLE_FIELDS if f != "components"),
    *_COMPONENTS,
)
_LINE_COLUMNS: Final = StatementLine.TUPLE_FIELDS
_MINOR: Final = frozenset(
    {"amount_minor", "gross_minor", "fee_minor", "net_minor", *_COMPONENTS}
)
_TIMES: Final = frozenset({"occurred_at"})
_DATES: Final = frozenset({"settles_on", "settles_by", "settled_on"})
_OBJECTS: Final = frozenset({"raw"})
_RECORD_COLUMNS: Final = (
    "side", "record_id", "outcome", "category", "rule", "ambiguous", "counterparts",
    "currency", "gross", "fee", "net", "explanation",
)


def _require(module: str, extra: str) -> Any:
    """Import an optional library, or say which extra installs it."""
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"{module} is not installed: pip install 'refundcore[{extra}]'"
        ) from None


def _kind_of(records: Sequence[Any], kind: _Kind | None) -> _Kind:
    """Which record type the sequence holds: ``kind``, or that of the records."""
    if kind is not None and kind not in (LedgerEntry, StatementLine):
        raise InvalidRecord("kind must be LedgerEntry or StatementLine", value=kind)
    if not records:
        if kind is None:
            raise InvalidRecord(
                "no records: pass kind=LedgerEntry or kind=StatementLine to get an empty frame",
                value=records,
            )
        return kind
    found = kind or type(records[0])
    for position, record in enumerate(records):
        if type(record) is not found:
            raise InvalidRecord(
                f"item {position} is not a {getattr(found, '__name__', found)}",
                value=record,
            )
    return found


def _columns(kind: _Kind) -> tuple[str, ...]:
    return _LEDGER_COLUMNS if kind is LedgerEntry else _LINE_COLUMNS


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _column_values(records: Sequence[Any], kind: _Kind) -> dict[str, list[Any]]:
    """The records as ``{column: values}``, in the documented layout."""
    columns: dict[str, list[Any]] = {name: [] for name in _columns(kind)}
    for record in records:
        parts = dict(record.components) if kind is LedgerEntry else {}
        for name, values in columns.items():
            if name in _COMPONENTS:
                values.append(parts.get(_COMPONENTS[name]))
            elif name == "kind":
                values.append(record.kind.value)
            elif name in _TIMES:
                values.append(_utc(getattr(record, name)))
            else:
                values.append(getattr(record, name))
    return columns


def to_pandas(
    records: Iterable[LedgerEntry] | Iterable[StatementLine], *, kind: _Kind | None = None
) -> Any:
    """Ledger entries or statement lines as a pandas DataFrame, one row per record.

    Args:
        records: Entries or lines, all of one type.
        kind: ``LedgerEntry`` or ``StatementLine``; needed only when
            ``records`` is empty (the frame then has the columns and no rows).

    Raises:
        ImportError: pandas is not installed (the ``dataframe`` extra).
        InvalidRecord: the records mix types, or are empty with no ``kind``.
    """
    pd = _require("pandas", "dataframe")
    items = list(records)
    found = _kind_of(items, kind)
    data: dict[str, Any] = {}
    for name, values in _column_values(items, found).items():
        if name in _MINOR:
            data[name] = pd.array(values, dtype="Int64")
        elif name in _TIMES:
            data[name] = pd.array(values, dtype="datetime64[us, UTC]")
        else:
            data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


def to_polars(
    records: Iterable[LedgerEntry] | Iterable[StatementLine], *, kind: _Kind | None = None
) -> Any:
    """Ledger entries or statement lines as a polars DataFrame, one row per record.

    Args:
        records: Entries or lines, all of one type.
        kind: ``LedgerEntry`` or ``StatementLine``; needed only when
            ``records`` is empty.

    Raises:
        ImportError: polars is not installed (the ``polars`` extra).
        InvalidRecord: the records mix types, or are empty with no ``kind``.
    """
    pl = _require("polars", "polars")
    items = list(records)
    found = _kind_of(items, kind)
    series = []
    for name, values in _column_values(items, found).items():
        if name in _MINOR:
            dtype = pl.Int64
        elif name in _TIMES:
            dtype = pl.Datetime("us", "UTC")
        elif name in _DATES:
            dtype = pl.Date
        elif name in _OBJECTS:
            dtype = pl.Object
        else:
            dtype = pl.String
        series.append(pl.Series(name, values, dtype=dtype))
    return pl.DataFrame(series)


def _missing(value: Any) -> bool:
    """A pandas or polars missing value (None, NaN, NA, NaT)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and NA are not equal to themselves
    except TypeError:  # pandas.NA refuses bool(); it is missing
        return True


def _python(name: str, value: Any) -> Any:
    """A cell as the Python value the record field takes (the record checks the rest)."""
    if name in _OBJECTS:
        return value
    if _missing(value):
        return None
    if name in _TIMES and hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()  # a pandas Timestamp
    return value


def _build(kind: _Kind, columns: dict[str, list[Any]], size: int) -> tuple[Any, ...]:
    """Records from ``{column: values}``, checked as ``from_tuples`` checks."""
    record = kind.__name__
    unknown = sorted(set(columns) - set(_columns(kind)))
    if unknown:
        raise InvalidRecord(
            f"unknown column(s) {', '.join(map(repr, unknown))}; drop them first "
            f"(the columns are {', '.join(_columns(kind))})",
            value=unknown, record=record,
        )
    for name in kind.TUPLE_FIELDS[:5]:
        if name not in columns:
            raise InvalidRecord("the frame lacks this required column", record=record,
                                field=name, value=sorted(columns))
    rows: list[Any] = []  # dict rows: from_tuples reads them by field name
    for index in range(size):
        row: dict[str, Any] = {}
        parts: list[tuple[Component, Any]] = []
        for name, values in columns.items():
            value = _python(name, values[index])
            if name in _COMPONENTS:
                if value is not None:
                    parts.append((_COMPONENTS[name], value))
            elif value is not None or name in _OBJECTS:
                row[name] = value
        if kind is LedgerEntry:
            row["components"] = tuple(sorted(parts, key=lambda p: _ORDER[p[0]]))
        elif row.get("raw") is None:
            row.pop("raw", None)
        rows.append(row)
    return kind.from_tuples(rows)


_ORDER: Final = {c: i for i, c in enumerate(Component)}


def from_pandas(df: Any, *, kind: type[Record]) -> tuple[Record, ...]:
    """Records from a pandas DataFrame laid out as :func:`to_pandas` makes it.

    Args:
        df: The frame; optional columns may be left out.
        kind: ``LedgerEntry`` or ``StatementLine``.

    Raises:
        InvalidRecord: an unknown or missing required column, or a bad row
            (naming the row number, the record id and the field).
    """
    _kind_of([], kind)
    columns = {str(name): df[name].tolist() for name in df.columns}
    return _build(kind, columns, len(df))


def from_polars(df: Any, *, kind: type[Record]) -> tuple[Record, ...]:
    """Records from a polars DataFrame laid out as :func:`to_polars` makes it.

    Args:
        df: The frame; optional columns may be left out.
        kind: ``LedgerEntry`` or ``StatementLine``.

    Raises:
        InvalidRecord: an unknown or missing required column, or a bad row
            (naming the row number, the record id and the field).
    """
    _kind_of([], kind)
    columns = {name: df.get_column(name).to_list() for name in df.columns}
    return _build(kind, columns, df.height)


def _record_ids(rows: list[dict[str, Any]]) -> None:
    """Make every ``record_id`` text (a rejected input's id may be anything)."""
    for row in rows:
        value = row["record_id"]
        if value is not None and not isinstance(value, str):
            row["record_id"] = repr(value)


def reconciliation_to_pandas(result: Reconciliation) -> Any:
    """A reconciliation as a pandas DataFrame: one row per record and outcome.

    The columns are those of :meth:`Reconciliation.to_records()
    <refundcore.reconcile.Reconciliation.to_records>`: ``gross``, ``fee`` and
    ``net`` hold exact ``Decimal`` amounts in major units (an object column),
    ``ambiguous`` is a bool column, ``record_id`` is text.

    Raises:
        ImportError: pandas is not installed (the ``dataframe`` extra).
    """
    pd = _require("pandas", "dataframe")
    rows = result.to_records()
    _record_ids(rows)
    data = {name: pd.Series([row[name] for row in rows], dtype=object)
            for name in _RECORD_COLUMNS}
    data["ambiguous"] = pd.Series([row["ambiguous"] for row in rows], dtype=bool)
    return pd.DataFrame(data)


def reconciliation_to_polars(result: Reconciliation) -> Any:
    """A reconciliation as a polars DataFrame: one row per record and outcome.

    The columns are those of :meth:`Reconciliation.to_records()
    <refundcore.reconcile.Reconciliation.to_records>`: ``gross``, ``fee`` and
    ``net`` are ``Decimal(38, scale)`` columns whose scale is the largest
    minor-unit exponent among the rows' currencies (so every amount is exact).

    Raises:
        ImportError: polars is not installed (the ``polars`` extra).
    """
    pl = _require("polars", "polars")
    rows = result.to_records()
    _record_ids(rows)
    scale = max(
        (-row[name].as_tuple().exponent for row in rows for name in ("gross", "fee", "net")
         if row[name] is not None),
        default=2,
    )
    amount = pl.Decimal(38, scale)
    schema = dict.fromkeys(_RECORD_COLUMNS, pl.String)
    schema.update(ambiguous=pl.Boolean, gross=amount, fee=amount, net=amount)
    columns = {name: [row[name] for row in rows] for name in _RECORD_COLUMNS}
    for name in ("gross", "fee", "net"):  # polars wants one scale per column
        columns[name] = [None if d is None else _rescale(d, scale) for d in columns[name]]
    return pl.DataFrame(columns, schema=schema)


def _rescale(value: Decimal, scale: int) -> Decimal:
    """``value`` written with ``scale`` decimal places (at least its own), exactly."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # amounts are finite
    return Decimal((sign, digits + (0,) * (scale + exponent), -scale))

