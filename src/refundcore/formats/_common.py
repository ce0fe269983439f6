"""What every statement parser shares: the error, the result, cells, amounts, times, headers."""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, Literal, NoReturn, ParamSpec, TypeVar

import attrs

from refundcore.errors import NO_VALUE, RefundcoreError
from refundcore.money import FineMoney, Money
from refundcore.reconcile import StatementLine

__all__ = [
    "OnInvalid",
    "ParseResult",
    "RejectedRow",
    "StatementFormatError",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: What a parser does with a row it cannot turn into a line.
OnInvalid = Literal["raise", "collect"]

#: China Standard Time: UTC+8 all year (no daylight saving since 1991).
CHINA: Final = timezone(timedelta(hours=8))

# A cell longer than this cannot be an amount; refusing it early also keeps
# Python's int() digit limit and Decimal's exponent handling out of reach of bad input.
_MAX_AMOUNT_TEXT: Final = 40


def _describe(value: object) -> str:
    return f"{value!r} ({type(value).__name__})"


class StatementFormatError(RefundcoreError, ValueError):
    """A statement that cannot be read as its format says: it names where and what.

    Attributes:
        format: The format being read (``"wechatpay"``).
        line: The 1-based line of the text (or row of the rows) at fault, or
            ``None`` when the problem is the input as a whole.
        column: The column (or key) at fault, when there is one.
        value: The offending cell or figure, or ``NO_VALUE``.
    """

    __module__ = "refundcore.formats"  # where users import it from, shown in tracebacks

    def __init__(
        self,
        reason: str,
        *,
        format: str,
        line: int | None = None,
        column: str | None = None,
        value: Any = NO_VALUE,
    ) -> None:
        self.format = format
        self.line = line
        self.column = column
        super().__init__(
            reason, value=value, record=f"{format} statement", record_id=line, field=column
        )

    def _message(self) -> str:
        where = [f"{self.format} statement"]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = self.reason
        if self.value is not NO_VALUE:
            text = f"{text}, got {_describe(self.value)}"
        return f"{', '.join(where)}: {text}"

    def __reduce__(self) -> tuple[Any, ...]:
        # The attributes travel in __dict__; the message is restored as it was.
        return (_restore, (type(self), self.args[0]), self.__dict__)


def _restore(cls: type[StatementFormatError], message: str) -> StatementFormatError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


@attrs.frozen(kw_only=True)
class RejectedRow:
    """A row a parser could not turn into a statement line (``on_invalid="collect"``).

    Attributes:
        line: The 1-based line of the text (or row of the rows), when known.
        column: The column at fault, when one is known.
        value: The offending cell or figure (``None`` when there is none).
        reason: What is wrong, in words.
        raw: The row as read, as ``(column, cell)`` pairs where the header is
            known (else the cells), for traceability.
    """

    line: int | None
    column: str | None
    value: Any = attrs.field(eq=False)
    reason: str
    raw: tuple[Any, ...] = ()

    @classmethod
    def of(cls, error: StatementFormatError, raw: tuple[Any, ...] = ()) -> RejectedRow:
        """The rejected row an error describes."""
        value = None if error.value is NO_VALUE else error.value
        return cls(line=error.line, column=error.column, value=value, reason=error.reason, raw=raw)


@attrs.frozen(kw_only=True)
class ParseResult:
    """What a parser read: the statement lines and the rows it rejected.

    In ``on_invalid="raise"`` mode (the default) ``rejected`` is always empty:
    the first problem raises :class:`StatementFormatError` instead.

    Attributes:
        lines: The statement lines, in the order of the input.
        rejected: The rows that could not be read, each with its reason.
    """

    lines: tuple[StatementLine, ...]
    rejected: tuple[RejectedRow, ...] = ()


class Collector:
    """Collects lines, and either raises or collects the rows that fail."""

    def __init__(self, fmt: str, on_invalid: object) -> None:
        if on_invalid not in ("raise", "collect"):
            raise StatementFormatError(
                "on_invalid must be 'raise' or 'collect'", format=fmt, value=on_invalid
            )
        self.fmt = fmt
        self.collect = on_invalid == "collect"
        self.lines: list[StatementLine] = []
        self.rejected: list[RejectedRow] = []
        self.ids: set[str] = set()

    def error(
        self, reason: str, *, line: int | None = None, column: str | None = None,
        value: Any = NO_VALUE,
    ) -> StatementFormatError:
        """An error of this parser's format."""
        return StatementFormatError(reason, format=self.fmt, line=line, column=column, value=value)

    def fail(
        self, reason: str, *, line: int | None = None, column: str | None = None,
        value: Any = NO_VALUE,
    ) -> NoReturn:
        """Raise an error of this parser's format, whatever the mode (a broken file)."""
        raise self.error(reason, line=line, column=column, value=value)

    def reject(self, error: StatementFormatError, raw: tuple[Any, ...] = ()) -> None:
        """Raise ``error``, or keep it as a rejected row in collect mode."""
        if not self.collect:
            raise error
        self.rejected.append(RejectedRow.of(error, raw))

    def attempt(
        self, line: int, raw: tuple[Any, ...], build: Callable[..., Any], *args: Any
    ) -> Any:
        """Run ``build(*args)`` for the row on ``line``; a failure is rejected and gives ``None``.

        Any refundcore error (an amount, a record check) becomes a
        :class:`StatementFormatError` naming the line.
        """
        try:
            return build(*args)
        except StatementFormatError as error:
            self.reject(error, raw)
        except RefundcoreError as error:
            self.reject(
                self.error(error.reason, line=line, column=error.field, value=error.value), raw
            )
        return None

    def add(self, line: StatementLine, *, at: int, column: str, raw: tuple[Any, ...]) -> bool:
        """Keep ``line`` unless its id repeats an earlier line's (then reject it)."""
        if line.id in self.ids:
            self.reject(self.error("duplicate line id", line=at, column=column, value=line.id), raw)
            return False
        self.ids.add(line.id)
        self.lines.append(line)
        return True

    def result(self) -> ParseResult:
        """The lines and rejected rows so far."""
        return ParseResult(lines=tuple(self.lines), rejected=tuple(self.rejected))


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parser builds many acyclic values.

    A statement of 200,000 rows makes millions of tuples and strings that can
    hold no cycle; letting the collector scan them as they are made costs a
    third of the parse (see DESIGN.md, performance notes).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pausing_gc(parse: Callable[_P, _R]) -> Callable[_P, _R]:
    """``parse`` run with the garbage collector paused (see :func:`gc_paused`)."""

    @functools.wraps(parse)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with gc_paused():
            return parse(*args, **kwargs)

    return paused


# -- reading rows ---------------------------------------------------------------------------


def strip_bom(text: str) -> str:
    """Drop a leading UTF-8 byte-order mark."""
    return text[1:] if text.startswith("\ufeff") else text


def refuse_non_text(data: object, fmt: str) -> None:
    """Refuse bytes and paths: parsers take text, decoded by the caller."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raise StatementFormatError(
            "pass text, not bytes: decode the file first", format=fmt, value=type(data).__name__
        )


def csv_rows(
    text: str | Iterable[str], fmt: str, *, delimiter: str = ",", quoting: bool = True
) -> Iterator[tuple[int, list[str]]]:
    """Split text (or its lines, as a file object gives them) into ``(line number, cells)``.

    The csv module reads the lines as they come, so a file object is never
    read whole; a leading BOM is dropped and CRLF line ends are accepted.
    """
    if isinstance(text, str):
        lines: Iterable[str] = io.StringIO(strip_bom(text), newline="")
    else:
        lines = _without_bom(iter(text))
    reader = csv.reader(
        lines,
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
        strict=True,
    )
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise StatementFormatError(
            f"not readable as CSV ({error})", format=fmt, line=reader.line_num or 1
        ) from None


def _without_bom(lines: Iterator[str]) -> Iterator[str]:
    """The lines, the first one without a leading BOM (the rest are passed through as they are)."""
    first = next(lines, None)
    if first is None:
        return lines
    return itertools.chain((strip_bom(first),), lines)


_NO_ROW: Final = object()


def _dict_rows(first: Mapping[Any, Any], rest: Iterator[object], fmt: str) -> Iterator[Any]:
    """Dict rows (``csv.DictReader``) as a header row and value rows, numbered as in a file."""
    keys = list(first)
    yield keys
    yield list(first.values())
    for number, row in enumerate(rest, start=3):
        if not isinstance(row, Mapping) or list(row) != keys:
            raise StatementFormatError(
                "every dict row must have the first row's keys, in order",
                format=fmt, line=number, value=row,
            )
        yield list(row.values())


def sequence_rows(
    rows: object, fmt: str, *, dicts: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """Number rows the caller already read, checking each is a sequence of str.

    With ``dicts``, rows may instead all be mappings of column to cell (as
    ``csv.DictReader`` gives): the first one's keys are the header, line 1.
    """
    refuse_non_text(rows, fmt)
    if not isinstance(rows, Iterable):
        raise StatementFormatError(
            "expected text or an iterable of rows", format=fmt, value=type(rows).__name__
        )
    iterator = iter(rows)
    first = next(iterator, _NO_ROW)
    if first is _NO_ROW:
        return
    if dicts and isinstance(first, Mapping):
        iterator = _dict_rows(first, iterator, fmt)
    else:
        iterator = itertools.chain([first], iterator)
    for number, row in enumerate(iterator, start=1):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise StatementFormatError(
                "a row must be a sequence of str cells", format=fmt, line=number, value=row
            )
        for cell in row:
            if not isinstance(cell, str):
                raise StatementFormatError(
                    "a cell must be a str", format=fmt, line=number, value=cell
                )
        yield number, list(row)


def read_rows(
    data: object, fmt: str, *, delimiter: str = ",", quoting: bool = True, dicts: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """Rows numbered from 1, streamed, whatever the caller holds.

    Text, a text file object or an iterable of str lines go through the csv
    module; rows of cells are taken as given (dict rows too if ``dicts``).
    """
    if isinstance(data, (str, io.TextIOBase)):
        return csv_rows(data, fmt, delimiter=delimiter, quoting=quoting)
    refuse_non_text(data, fmt)
    if not isinstance(data, Iterable):
        raise StatementFormatError(
            "expected text, a text file or an iterable of lines or rows", format=fmt,
            value=type(data).__name__,
        )
    iterator = iter(data)
    first = next(iterator, _NO_ROW)
    if first is _NO_ROW:
        return iter(())
    rest = itertools.chain((first,), iterator)
    if isinstance(first, str):
        return csv_rows(rest, fmt, delimiter=delimiter, quoting=quoting)
    return sequence_rows(rest, fmt, dicts=dicts)


def is_blank(cells: Sequence[str]) -> bool:
    """A row with no content at all (an empty line)."""
    return all(not cell.strip() for cell in cells)


class Header:
    """A header row: maps column names to positions and reads rows into dicts."""

    def __init__(
        self,
        cells: Sequence[str],
        *,
        line: int,
        fmt: str,
        required: Iterable[str],
        known: Iterable[str] | None = None,
    ) -> None:
        self.line = line
        self.fmt = fmt
        self.columns = tuple(cell.strip() for cell in cells)
        seen: set[str] = set()
        for name in self.columns:
            if name in seen:
                self._fail("the header repeats a column", name, name)
            seen.add(name)
            if known is not None and name not in known:
                self._fail("the header has a column this format does not have", name, name)
        for name in required:
            if name not in seen:
                self._fail(
                    "the header lacks a required column (is this the right format?)",
                    name,
                    self.columns,
                )

    def _fail(self, reason: str, column: str, value: object) -> NoReturn:
        raise StatementFormatError(
            reason, format=self.fmt, line=self.line, column=column, value=value
        )

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def read(self, cells: Sequence[str], line: int) -> dict[str, str]:
        """The row as ``{column: cell}``; it must have exactly the header's width."""
        if len(cells) != len(self.columns):
            raise StatementFormatError(
                f"the row has {len(cells)} fields but the header has {len(self.columns)}",
                format=self.fmt,
                line=line,
                value=len(cells),
            )
        return dict(zip(self.columns, cells, strict=True))


def pairs(row: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A row as ``(column, value)`` pairs, for a line's ``raw``."""
    return tuple(row.items())


def optional_text(text: str | None) -> str | None:
    """A stripped cell, or ``None`` when it is empty."""
    if text is None:
        return None
    text = text.strip()
    return text or None


# -- amounts --------------------------------------------------------------------------------

_PLAIN: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_GROUPED: Final = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_PLAIN_COMMA: Final = re.compile(r"[+-]?[0-9]+(?:,[0-9]+)?")
_GROUPED_COMMA: Final = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")


def decimal_text(
    text: str, *, fmt: str, line: int | None, column: str, decimal_mark: str = "."
) -> str:
    """Normalise an amount cell to a plain ``-1234.56`` string, strictly.

    Accepts an optional sign, digits, and thousands separators only where
    they group by three (``1,234.56``; with ``decimal_mark=","``, ``1.234,56``).
    Refuses anything else: blanks, currency symbols, exponents, spaces.
    """
    cell = text.strip()
    if len(cell) > _MAX_AMOUNT_TEXT:
        raise StatementFormatError(
            "not an amount (too long)", format=fmt, line=line, column=column, value=text
        )
    if decimal_mark == ",":
        if _PLAIN_COMMA.fullmatch(cell) or _GROUPED_COMMA.fullmatch(cell):
            return cell.replace(".", "").replace(",", ".")
    elif _PLAIN.fullmatch(cell) or _GROUPED.fullmatch(cell):
        return cell.replace(",", "")
    raise StatementFormatError(
        f"not a decimal amount like '1234{decimal_mark}56'",
        format=fmt,
        line=line,
        column=column,
        value=text,
    )


def parse_money(
    text: str, currency: str, *, fmt: str, line: int | None, column: str,
    decimal_mark: str = ".",
) -> Money:
    """An amount cell in major units as exact Money (no more decimals than the currency has)."""
    plain = decimal_text(text, fmt=fmt, line=line, column=column, decimal_mark=decimal_mark)
    try:
        return Money.of(plain, currency)
    except RefundcoreError as error:
        raise StatementFormatError(
            error.reason, format=fmt, line=line, column=column, value=text
        ) from None


def parse_fine(
    text: str, currency: str, *, fmt: str, line: int | None, column: str
) -> FineMoney:
    """An amount cell kept at the precision it is written with (``0.05940`` stays 5 places)."""
    plain = decimal_text(text, fmt=fmt, line=line, column=column)
    try:
        return FineMoney.of(plain, currency)
    except RefundcoreError as error:
        raise StatementFormatError(
            error.reason, format=fmt, line=line, column=column, value=text
        ) from None


def check_currency(code: object, *, fmt: str, line: int | None, column: str) -> str:
    """A currency code refundcore knows (the caller upper-cases where a format is lower)."""
    try:
        Money.zero(code)  # type: ignore[arg-type]
    except RefundcoreError:
        raise StatementFormatError(
            "not an ISO 4217 currency code refundcore knows",
            format=fmt,
            line=line,
            column=column,
            value=code,
        ) from None
    assert isinstance(code, str)
    return code


# -- times ----------------------------------------------------------------------------------

_YMD: Final = r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
_DMY: Final = r"(?P<d>[0-9]{2})\.(?P<m>[0-9]{2})\.(?P<y>[0-9]{4})"
_HMS: Final = r"(?P<H>[0-9]{2}):(?P<M>[0-9]{2}):(?P<S>[0-9]{2})"
_OFFSET: Final = r"(?P<sign>[+-])(?P<oh>[0-9]{2}):?(?P<om>[0-9]{2})"

#: Naive ``2026-10-08 09:15:02``: the caller names the time zone.
LOCAL: Final = re.compile(rf"{_YMD} {_HMS}")
#: Naive ``2026-10-08 09:15``, to the minute (Stripe Dashboard exports).
LOCAL_MINUTES: Final = re.compile(rf"{_YMD} (?P<H>[0-9]{{2}}):(?P<M>[0-9]{{2}})")
#: ``2026-10-01 07:00:00 UTC``.
UTC_SUFFIX: Final = re.compile(rf"{_YMD} {_HMS} UTC")
#: ``01.10.2026 07:00:00 UTC`` (European marketplaces).
UTC_SUFFIX_DMY: Final = re.compile(rf"{_DMY} {_HMS} UTC")
#: ``2026-10-01 10:12:31 -0400``.
SPACED_OFFSET: Final = re.compile(rf"{_YMD} {_HMS} {_OFFSET}")
#: ISO 8601 with an offset or ``Z``: ``2026-10-01T10:12:31-04:00``.
ISO: Final = re.compile(rf"{_YMD}T{_HMS}(?:\.[0-9]{{1,6}})?(?:(?P<z>Z)|{_OFFSET})")
_DATES: Final = (re.compile(_YMD), re.compile(_DMY))


def parse_time(
    text: str,
    *,
    patterns: Sequence[re.Pattern[str]],
    fmt: str,
    line: int | None,
    column: str,
    tz: timezone | None = None,
    expected: str,
) -> datetime:
    """A timezone-aware time from a cell, by the first pattern that matches it whole.

    A pattern without an offset takes ``tz``; ``expected`` shows the layout in the error.
    """
    cell = text.strip()
    for pattern in patterns:
        match = pattern.fullmatch(cell)
        if match is None:
            continue
        parts = match.groupdict()
        zone = tz
        if parts.get("z") or pattern in (UTC_SUFFIX, UTC_SUFFIX_DMY):
            zone = timezone.utc
        elif parts.get("sign"):
            sign = -1 if parts["sign"] == "-" else 1
            minutes = int(parts["oh"]) * 60 + int(parts["om"])
            if minutes >= 24 * 60:
                break
            zone = timezone(sign * timedelta(minutes=minutes))
        assert zone is not None  # a naive pattern is only passed with its zone
        try:
            return datetime(
                int(parts["y"]), int(parts["m"]), int(parts["d"]),
                int(parts["H"]), int(parts["M"]), int(parts.get("S") or 0), tzinfo=zone,
            )
        except ValueError:
            break
    raise StatementFormatError(
        f"not a time like {expected!r}", format=fmt, line=line, column=column, value=text
    )


def parse_date(text: str, *, fmt: str, line: int | None, column: str) -> date:
    """A date cell, ``2026-10-08`` or ``08.10.2026`` (slashed dates are ambiguous: refused)."""
    for pattern in _DATES:
        match = pattern.fullmatch(text.strip())
        if match is not None:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                break
    raise StatementFormatError(
        "not a date like '2026-10-08'", format=fmt, line=line, column=column, value=text
    )


def from_unix(value: object, *, fmt: str, line: int | None, column: str) -> datetime:
    """A Unix timestamp (int seconds) as an aware UTC datetime."""
    if type(value) is int:
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    raise StatementFormatError(
        "not a Unix timestamp in seconds (an int)", format=fmt, line=line, column=column,
        value=value,
    )


def freeze(value: object) -> Any:
    """A JSON-like value made immutable: dicts become ``(key, value)`` pairs, lists tuples."""
    if isinstance(value, Mapping):
        return tuple((key, freeze(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(item) for item in value)
    return value
