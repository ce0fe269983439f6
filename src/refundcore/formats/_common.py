"""What every statement parser shares: the error, the result, cells, amounts, times, headers."""

from __future__ import annotations

import contextlib
import csv
import functools
import gc
import io
import itertools
import operator
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

    def add_all(self, rows: Iterable[tuple[Any, ...]], ids: list[str]) -> bool:
        """Keep lines given as rows (:attr:`StatementLine.TUPLE_FIELDS`) the parser has checked.

        ``ids`` are the rows' ids. All or nothing: when an id repeats (within
        ``rows`` or an earlier line's), nothing is kept and ``False`` says so,
        for the parser to read the rows one by one and reject the repeat where
        it is.
        """
        fresh = set(ids)
        if len(fresh) != len(ids) or not self.ids.isdisjoint(fresh):
            return False
        self.ids |= fresh
        self.lines += checked_lines(rows)
        return True

    def result(self) -> ParseResult:
        """The lines and rejected rows so far."""
        return ParseResult(lines=tuple(self.lines), rejected=tuple(self.rejected))


#: A class with :class:`StatementLine`'s slots and nothing else, to fill them fast.
_LINE_TWIN: Final = type(
    "_StatementLineTwin", (), {"__slots__": StatementLine.__slots__}  # type: ignore[attr-defined]
)


def checked_lines(rows: Iterable[tuple[Any, ...]]) -> list[StatementLine]:
    """Lines from rows laid out as :attr:`StatementLine.TUPLE_FIELDS`, every field already checked.

    For a parser's own rows only: it has checked each field as the record's
    constructor would (non-blank ids, a known currency, an aware time,
    ``net == gross - fee``, ...), so the slots are filled without checking
    again. The twin object becomes a genuine :class:`StatementLine` (the
    layouts are the same), equal to the one the constructor would build.
    """
    new, twin, cls = object.__new__, _LINE_TWIN, StatementLine
    lines: list[StatementLine] = []
    append = lines.append
    for (ident, kind, gross, currency, occurred, reference, order, fee, net, settled, payout,
         raw_type, raw) in rows:
        line: Any = new(twin)
        line.id = ident
        line.kind = kind
        line.gross_minor = gross
        line.currency = currency
        line.occurred_at = occurred
        line.reference = reference
        line.order_id = order
        line.fee_minor = fee
        line.net_minor = net
        line.settled_on = settled
        line.payout_reference = payout
        line.raw_type = raw_type
        line.raw = raw
        line.__class__ = cls
        append(line)
    return lines


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
        if gc.get_count()[0] >= _PROMOTE_AT and gc.get_freeze_count() == 0:
            # The young generation now holds every line just made: move it to the oldest,
            # unscanned, in constant time, rather than have the next young collection scan it
            # to find no cycle (as refundcore.ledger's bulk builders do).
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


#: From this many young objects on, :func:`gc_paused` moves them to the oldest generation.
_PROMOTE_AT: Final = 10_000


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


#: How many rows a parser reads at a time the quick way (see :class:`Rows`).
CHUNK: Final = 2048


class Rows:
    """Numbered rows streamed from text, a text file, lines or rows: one at a time or in blocks.

    :meth:`next_row` gives one row (a header, a comment line); :meth:`blocks`
    then gives the rest a block at a time, blank rows left out, for a parser
    to read a column at a time. Text is split by the csv module a block of
    lines at a time; a block where a row spans lines (a quoted line break)
    or that the csv module refuses is split row by row instead, so line
    numbers and errors are exactly those of :func:`read_rows`.
    """

    def __init__(
        self, data: object, fmt: str, *, delimiter: str = ",", quoting: bool = True,
        dicts: bool = False,
    ) -> None:
        self.fmt = fmt
        self.dialect: dict[str, Any] = {
            "delimiter": delimiter,
            "quoting": csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
            "strict": True,
        }
        self.line = 0  # the lines read so far
        self.lines: Iterator[str] | None = None
        self.rows: Iterator[tuple[int, list[str]]] | None = None
        if isinstance(data, str):
            self.lines = io.StringIO(strip_bom(data), newline="")
        elif isinstance(data, io.TextIOBase):
            self.lines = _without_bom(iter(data))
        else:  # as read_rows takes it
            refuse_non_text(data, fmt)
            if not isinstance(data, Iterable):
                raise StatementFormatError(
                    "expected text, a text file or an iterable of lines or rows", format=fmt,
                    value=type(data).__name__,
                )
            iterator = iter(data)
            first = next(iterator, _NO_ROW)
            rest = itertools.chain((first,), iterator)
            if first is _NO_ROW:
                self.rows = iter(())
            elif isinstance(first, str):
                self.lines = _without_bom(rest)
            else:
                self.rows = sequence_rows(rest, fmt, dicts=dicts)

    def _error(self, error: csv.Error, read: int) -> StatementFormatError:
        return StatementFormatError(
            f"not readable as CSV ({error})", format=self.fmt, line=self.line + (read or 1))

    def next_row(self) -> tuple[int, list[str]] | None:
        """The next row and its line number, or ``None`` at the end."""
        if self.lines is None:
            assert self.rows is not None
            return next(self.rows, None)
        reader = csv.reader(self.lines, **self.dialect)
        try:
            cells = next(reader, None)
        except csv.Error as error:
            raise self._error(error, reader.line_num) from None
        if cells is None:
            return None
        start = self.line + 1
        self.line += reader.line_num
        return start, cells

    def blocks(
        self, size: int = CHUNK, *, blank: Callable[[list[str]], bool] = is_blank,
        prefix: str = "",
    ) -> Iterator[tuple[Sequence[int], Sequence[list[str]]]]:
        """The rest of the rows but the ``blank`` ones, ``size`` lines at a time, with their lines.

        ``blank`` says whether a row is left out; it must hold of an empty row
        and of no row whose first cell has content. A block that comes as a
        :class:`ColumnBlock` whose every cell starts with ``prefix`` (one
        character, not blank, a quote or the delimiter: WeChat Pay's
        backtick) holds its cells without it (see :attr:`ColumnBlock.prefix`).
        """
        if self.lines is None:
            assert self.rows is not None
            yield from _numbered_blocks(self.rows, size, blank)
            return
        lines = self.lines
        while True:
            block = list(itertools.islice(lines, size))
            if not block:
                return
            columns = self._columns(block, prefix)
            if columns is not None and (columns.prefix or all(map(str.strip, columns.columns[0]))):
                yield range(self.line + 1, self.line + 1 + len(block)), columns
                self.line += len(block)
                continue
            rows = self._split(block)
            if rows is None:
                try:
                    rows = list(csv.reader(block, **self.dialect))
                except csv.Error:
                    rows = []
            if len(rows) == len(block):
                numbers: Sequence[int] = range(self.line + 1, self.line + 1 + len(block))
                self.line += len(block)
            else:  # a row spans lines (maybe past the block), or a broken row: row by row
                numbers, rows = self._row_by_row(block)
            if not all(rows) or not all(map(str.strip, map(_FIRST, rows))):
                numbers, rows = _without_blank(numbers, rows, blank)
            if rows:
                yield numbers, rows

    def _columns(self, block: list[str], prefix: str) -> ColumnBlock | None:
        return split_columns(block, delimiter=self.dialect["delimiter"],
                             quoting=self.dialect["quoting"] != csv.QUOTE_NONE, prefix=prefix)

    def _split(self, block: list[str]) -> list[list[str]] | None:
        return split_lines(block, delimiter=self.dialect["delimiter"],
                           quoting=self.dialect["quoting"] != csv.QUOTE_NONE)

    def _row_by_row(self, block: list[str]) -> tuple[list[int], list[list[str]]]:
        """The rows starting in ``block`` (the last may end past it), read one by one."""
        assert self.lines is not None
        reader = csv.reader(itertools.chain(block, self.lines), **self.dialect)
        numbers: list[int] = []
        rows: list[list[str]] = []
        start = 1
        try:
            while start <= len(block):
                cells = next(reader)  # the block's rows end no sooner than the block
                numbers.append(self.line + start)
                rows.append(cells)
                start = reader.line_num + 1
        except csv.Error as error:
            raise self._error(error, reader.line_num) from None
        self.line += reader.line_num
        return numbers, rows


def split_columns(
    block: list[str], *, delimiter: str = ",", quoting: bool = True, prefix: str = ""
) -> ColumnBlock | None:
    """Lines as one block of columns, when each line is one row of the same width; else ``None``.

    Each line must be plain: ended by a line feed or CRLF (the last one
    may be unended), with no other line break, no NUL, no overlong field
    and not empty; a line with quotes (where quotes count) is split by
    the csv module on its own, and must end where its row ends. The cells
    are then what the csv module splits, and splitting the whole block at
    once (the lines' ends stripped one by one, which is quicker than
    replacing them in the block's text) is quicker still than
    :func:`split_lines`. With a ``prefix``, see :meth:`Rows.blocks`.
    """
    bodies = list(map(str.rstrip, block, itertools.repeat("\r\n")))
    ended = sum(map(str.endswith, block, itertools.repeat("\n")))
    # each line's stripped end is "", "\n" or "\r\n" exactly when it is one char per "\n"
    # and per "\r\n" it ends with; every line but the last has one
    if (sum(map(len, block)) - sum(map(len, bodies))
            != ended + sum(map(str.endswith, block, itertools.repeat("\r\n")))
            or ended - block[-1].endswith("\n") != len(block) - 1
            or "" in bodies or max(map(len, block)) > csv.field_size_limit()):
        return None
    text = delimiter.join(bodies)
    if "\n" in text or "\r" in text or "\0" in text:
        return None
    held: list[tuple[int, int]] = []  # (row, column) of each cell holding the delimiter
    if quoting and '"' in text:
        if not _quoted_lines(bodies, delimiter, held):
            return None
        text = delimiter.join(bodies)
    delimiters = set(map(str.count, bodies, itertools.repeat(delimiter)))
    if len(delimiters) != 1:
        return None
    width = delimiters.pop() + 1
    cells: list[str] | None = None
    if prefix and text.startswith(prefix):
        # as many cells split at "delimiter + prefix" as at the delimiter: each has the prefix
        cells = text[len(prefix):].split(delimiter + prefix)
        if len(cells) != len(block) * width:
            cells = None
    if cells is None:
        prefix = ""
        cells = text.split(delimiter)
    columns = [cells[index::width] for index in range(width)]
    for row, index in held:
        columns[index][row] = columns[index][row].replace("\0", delimiter)
    # (an ASCII block is searched for each of the few ASCII spaces at memchr speed)
    bare = text.isascii() and not any(map(text.__contains__, _ASCII_SPACES))
    return ColumnBlock(columns, prefix=prefix, bare=bare)


#: The ASCII characters ``str.strip`` strips.
_ASCII_SPACES: Final = tuple(char for char in map(chr, range(128)) if char.isspace())


def _quoted_lines(lines: list[str], delimiter: str, held: list[tuple[int, int]]) -> bool:
    """Split each line (without its end or a NUL) that has a quote by the csv module, in place.

    Such a line is written back as its cells joined by the delimiter, a
    delimiter inside a cell written as a NUL; ``held`` gets the (row,
    column) of each such cell. ``False`` when a quoted cell goes on past its
    line, or the csv module refuses the line.
    """
    dialect = {"delimiter": delimiter, "strict": True}
    for row in itertools.compress(range(len(lines)), map(str.__contains__, lines,
                                                          itertools.repeat('"'))):
        try:
            (cells,) = csv.reader((lines[row],), **dialect)  # type: ignore[arg-type]
        except csv.Error:
            return False
        for index, cell in enumerate(cells):
            if delimiter in cell:
                cells[index] = cell.replace(delimiter, "\0")
                held.append((row, index))
        lines[row] = delimiter.join(cells)
    return True


_FIRST: Final = operator.itemgetter(0)


class ColumnBlock(Sequence[list[str]]):
    """A block of rows held as its columns (:meth:`Rows.blocks`); rows are made when read.

    Attributes:
        columns: The cells of each column, every column as long.
        prefix: What every cell started with and ``columns`` leave out
            (``""``: nothing); the rows have it.
        bare: Whether no cell holds a space (``str.strip`` would change
            none); ``False`` when unknown.
    """

    def __init__(
        self, columns: list[list[str]], *, prefix: str = "", bare: bool = False
    ) -> None:
        self.columns = columns
        self.prefix = prefix
        self.bare = bare
        self._rows: list[list[str]] | None = None

    def _made(self) -> list[list[str]]:
        if self._rows is None:
            columns: Iterable[Iterable[str]] = self.columns
            if self.prefix:
                columns = [map(self.prefix.__add__, cells) for cells in self.columns]
            self._rows = list(map(list, zip(*columns, strict=True)))
        return self._rows

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getitem__(self, index: Any) -> Any:
        return self._made()[index]

    def __iter__(self) -> Iterator[list[str]]:
        return iter(self._made())


def columns_of(rows: Sequence[list[str]], width: int) -> list[Sequence[str]] | None:
    """A block's columns, or ``None`` unless every row has ``width`` cells.

    A :class:`ColumnBlock`'s columns are given as it holds them (without its prefix).
    """
    if isinstance(rows, ColumnBlock):
        return rows.columns if len(rows.columns) == width else None  # type: ignore[return-value]
    if set(map(len, rows)) != {width}:
        return None
    return list(zip(*rows, strict=True))


def _without_blank(
    numbers: Sequence[int], rows: list[list[str]], blank: Callable[[list[str]], bool]
) -> tuple[list[int], list[list[str]]]:
    kept = [(line, cells) for line, cells in zip(numbers, rows, strict=True)
            if not blank(cells)]
    return [line for line, _ in kept], [cells for _, cells in kept]


def split_lines(
    block: list[str], *, delimiter: str = ",", quoting: bool = True
) -> list[list[str]] | None:
    """Lines as rows, one per line, split as the csv module splits each; ``None`` if unsure.

    A line without quotes, line breaks inside, NULs or overlong fields is
    its cells joined by the delimiter, and ``str.split`` takes them apart
    three times quicker than the csv module; a line with quotes is read by
    the csv module on its own. Anything else (a quoted cell spanning lines,
    a stray line break) is left to the caller to read with the csv module.
    """
    bodies = list(map(str.rstrip, block, itertools.repeat("\r\n")))
    joined = "".join(bodies)
    if ("\r" in joined or "\n" in joined or "\0" in joined
            or max(map(len, bodies)) > csv.field_size_limit()):
        return None
    if not quoting or '"' not in joined:
        rows = list(map(str.split, bodies, itertools.repeat(delimiter)))
    else:
        rows = []
        dialect = {"delimiter": delimiter, "strict": True}
        for body in bodies:
            if '"' not in body:
                rows.append(body.split(delimiter))
                continue
            try:
                rows += csv.reader((body,), **dialect)  # type: ignore[arg-type]
            except csv.Error:  # a quoted cell that goes on past the line
                return None
    if "" in bodies:  # an empty line is an empty row, as the csv module reads it
        rows = [row if body else [] for row, body in zip(rows, bodies, strict=True)]
    return rows


def _numbered_blocks(
    rows: Iterator[tuple[int, list[str]]], size: int, blank: Callable[[list[str]], bool]
) -> Iterator[tuple[list[int], list[list[str]]]]:
    """Rows already split into cells, the ones that are not blank, ``size`` at a time."""
    lines: list[int] = []
    batch: list[list[str]] = []
    for line, cells in rows:
        if (not cells or not cells[0].strip()) and blank(cells):
            continue
        lines.append(line)
        batch.append(cells)
        if len(batch) == size:
            yield lines, batch
            lines, batch = [], []
    if batch:
        yield lines, batch


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


#: How many distinct cells of a column :class:`RawRows` keeps one shared pair for.
_SHARED_PAIRS: Final = 4096


class RawRows:
    """Builds lines' ``raw`` rows, ``(column, cell)`` pairs, a block of rows at a time.

    A statement repeats most cells of some columns (a type, a currency, a
    payout): such a column's rows share one pair per distinct cell, which
    is quicker to build than a pair per row and keeps a large statement's
    raw rows small.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.shared: tuple[dict[str, tuple[str, str]], ...] = tuple({} for _ in columns)
        # whether each column repeats its cells, judged on the first block
        self.repeats: list[bool] | None = None

    def rows(
        self, columns: Sequence[Sequence[str]], *, extra: Sequence[tuple[str, str]] = ()
    ) -> list[tuple[tuple[str, str], ...]]:
        """The raw row of each row, from the cells of each column (all the same length).

        Each raw row ends with the ``extra`` pairs.
        """
        if self.repeats is None:
            self.repeats = [len(set(cells)) * 4 <= len(cells) for cells in columns]
        pair_columns: list[Iterator[tuple[str, str]]] = []
        for name, cells, shared, repeats in zip(
                self.columns, columns, self.shared, self.repeats, strict=True):
            if not repeats:
                pair_columns.append(zip(itertools.repeat(name), cells))
                continue
            first = cells[0]
            if cells[-1] == first and cells.count(first) == len(cells):  # one cell all along
                pair = shared.get(first)
                if pair is None:
                    if len(shared) >= _SHARED_PAIRS:
                        shared.clear()
                    pair = shared[first] = (name, first)
                pair_columns.append(itertools.repeat(pair, len(cells)))
                continue
            found: list[Any] = list(map(shared.get, cells))
            if None in found:
                missing = set(cells).difference(shared)
                if len(shared) + len(missing) > _SHARED_PAIRS:
                    shared.clear()
                    missing = set(cells)
                for cell in missing:
                    shared[cell] = (name, cell)
                found = list(map(shared.__getitem__, cells))
            pair_columns.append(iter(found))
        pair_columns += (itertools.repeat(pair, len(columns[0])) for pair in extra)
        return list(zip(*pair_columns, strict=True))


def pairs(row: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A row as ``(column, value)`` pairs, for a line's ``raw``."""
    return tuple(row.items())


def stripped(cells: Sequence[str]) -> list[str]:
    """A column's cells as ``str.strip`` leaves them (a list of cells is kept if it changes none).

    A column of ASCII cells is searched for each of the few ASCII spaces at
    memchr speed, quicker than stripping each cell.
    """
    joined = "".join(cells)
    if joined.isascii() and not any(map(joined.__contains__, _ASCII_SPACES)):
        return cells if isinstance(cells, list) else list(cells)
    return list(map(str.strip, cells))


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


@functools.cache
def exact_amount(exponent: int, decimal_mark: str = ".") -> re.Pattern[str]:
    """The pattern of an amount cell written with exactly the currency's decimals.

    Such a cell is ``int(cell.replace(decimal_mark, ""))`` minor units, as
    :func:`parse_money` reads it: the quick way for a whole column at once.
    """
    if exponent == 0:
        return re.compile(_QUICK_DIGITS)
    return re.compile(rf"{_QUICK_DIGITS}{re.escape(decimal_mark)}[0-9]{{{exponent}}}")


def minor_column(cells: Sequence[str], exponent: int, decimal_mark: str = ".") -> list[int] | None:
    """A column of amount cells as minor units, or ``None`` unless each is ordinary.

    Ordinary: written with exactly the currency's decimals (else the parser
    reads the rows one by one, naming a bad cell). Such a cell is
    ``int(cell.replace(decimal_mark, ""))`` minor units, as
    :func:`parse_money` reads it; the column is checked by one pattern match.
    """
    first = cells[0]
    if cells[-1] == first and cells.count(first) == len(cells):  # one amount all along
        if exact_amount(exponent, decimal_mark).fullmatch(first) is None:
            return None
        return [int(first.replace(decimal_mark, ""))] * len(cells)
    joined = "\n".join(cells)
    if _exact_column(exponent, decimal_mark).fullmatch(joined) is None:
        return None
    minor = list(map(int, joined.replace(decimal_mark, "").split("\n")))
    return minor if len(minor) == len(cells) else None  # (a cell may hold a line break)


@functools.cache
def _exact_column(exponent: int, decimal_mark: str) -> re.Pattern[str]:
    cell = exact_amount(exponent, decimal_mark).pattern
    return re.compile(rf"(?:{cell}\n)*{cell}")


# At most 30 digits before the mark keeps a quick amount far inside Money's 38-digit bound.
_QUICK_DIGITS: Final = "-?[0-9]{1,30}"


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


def remembered(
    cells: Sequence[str],
    seen: dict[str, Any],
    read: Callable[[str], Any],
    read_many: Callable[[list[str]], list[Any] | None] | None = None,
) -> list[Any] | None:
    """``read`` of each cell, reading each distinct cell once; ``None`` if one is refused.

    ``seen`` remembers the cells read (up to a few thousand) across calls;
    ``read`` raises :class:`StatementFormatError` for a bad cell, and the
    parser then reads the rows one by one, naming it. ``read_many``, when
    given, may read many new cells at once (or say ``None``: then ``read``
    reads them).
    """
    values = list(map(seen.get, cells, itertools.repeat(_UNSEEN)))
    if _UNSEEN not in values:
        return values
    missing = set(cells).difference(seen)
    if len(seen) + len(missing) > _REMEMBERED:
        seen.clear()
        missing = set(cells)
    texts = list(missing)
    read_all = read_many(texts) if read_many is not None and len(texts) > _MANY else None
    if read_all is not None:
        seen.update(zip(texts, read_all, strict=True))
    else:
        try:
            for text in texts:
                seen[text] = read(text)
        except StatementFormatError:
            return None
    return list(map(seen.__getitem__, cells))


#: What :func:`remembered` finds for a cell it has not read yet.
_UNSEEN: Final = object()
#: From this many new cells on, :func:`remembered` reads them all at once.
_MANY: Final = 8


#: Shapes :class:`TimeReader` reads without :func:`parse_time`: a valid hour, minute and second
#: (so that ``datetime.fromisoformat`` of the first 19 characters is what parse_time makes).
_QUICK_HMS: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
_QUICK_OFFSET: Final = r"[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9]"
_QUICK: Final[dict[re.Pattern[str], re.Pattern[str]]] = {
    LOCAL: re.compile(_QUICK_HMS.replace("[ T]", " ")),
    LOCAL_MINUTES: re.compile(_QUICK_HMS.replace("[ T]", " ")[:-11]),
    UTC_SUFFIX: re.compile(_QUICK_HMS.replace("[ T]", " ") + " UTC"),
    SPACED_OFFSET: re.compile(_QUICK_HMS.replace("[ T]", " ") + " " + _QUICK_OFFSET),
    ISO: re.compile(_QUICK_HMS.replace("[ T]", "T") + rf"(?:\.[0-9]{{1,6}})?(?:Z|{_QUICK_OFFSET})"),
}
#: A column of cells of one shape (joined by line breaks), and its offsets that are not
#: written as ISO 8601 writes them (``-0400``, `` -04:00``).
_QUICK_MANY: Final[dict[re.Pattern[str], tuple[re.Pattern[str], re.Pattern[str]]]] = {
    pattern: (re.compile(rf"(?:{shape.pattern}\n)*{shape.pattern}"),
              re.compile(r" [+-][0-9]{2}:?[0-9]{2}(?=\n|\Z)" if pattern is SPACED_OFFSET
                         else r"[+-][0-9]{4}(?=\n|\Z)"))
    for pattern, shape in _QUICK.items()
}
#: A fraction of a second (parse_time leaves it out).
_FRACTION: Final = re.compile(r"\.[0-9]{1,6}(?=[Z+-])")


def _iso_offset(zone: timezone) -> str:
    """``+08:00``: a fixed zone's offset as ISO 8601 writes it."""
    offset = zone.utcoffset(None)
    minutes = offset // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


#: How many distinct cells a :class:`TimeReader` remembers before it starts afresh.
_REMEMBERED: Final = 8192


class TimeReader:
    """Reads the time cells of one column: :func:`parse_time`, remembering recent cells.

    A statement repeats its times (many rows in one second, or one posting
    time for a whole batch), and rows come roughly in time order, so a
    small memory of the cells already read saves most of the work. A new
    cell in a common shape (``2026-10-08 09:15:02``, ``... UTC``,
    ``... -0400``, ISO 8601 with ``Z`` or an offset) is read by
    ``datetime.fromisoformat``; anything else by :func:`parse_time`, which
    reads it the same way or refuses it.

    Attributes:
        seen: The cells read so far (up to a few thousand) and their times.
    """

    __slots__ = (
        "dates", "expected", "fmt", "name", "optional", "patterns", "quick", "seen", "tz",
        "zones",
    )

    def __init__(
        self,
        *,
        patterns: Sequence[re.Pattern[str]],
        fmt: str,
        column: str,
        tz: timezone | None = None,
        expected: str,
        optional: bool = False,
        dates: bool = False,
    ) -> None:
        self.patterns = tuple(patterns)
        self.optional = optional
        self.dates = dates
        self.fmt = fmt
        self.name = column
        self.tz = tz
        self.expected = expected
        self.seen: dict[str, date | None] = {}
        self.zones: dict[str, timezone] = {}
        # parse_time takes the first pattern that matches; the shapes do not overlap, so
        # each quick shape can be tried on its own.
        self.quick = tuple((_QUICK[p], p) for p in self.patterns if p in _QUICK)

    def column(self, cells: Sequence[str]) -> list[Any] | None:
        """The times of a column's cells, or ``None`` if one is bad (to read row by row).

        In an optional column a blank cell is ``None``, and a cell is read
        stripped; a reader of ``dates`` gives the times' dates.
        """
        return remembered(cells, self.seen, self._read, self._many)

    def _many(self, texts: list[str]) -> list[Any] | None:
        """Many new cells of one usual shape at once, or ``None`` (read them one by one)."""
        joined = "\n".join(texts)
        for pattern in self.patterns:
            shapes = _QUICK_MANY.get(pattern)
            if shapes is None or shapes[0].fullmatch(joined) is None:
                continue
            if pattern is LOCAL or pattern is LOCAL_MINUTES:
                if self.tz is None:
                    return None
                offset = _iso_offset(self.tz)
                iso = joined.replace("\n", offset + "\n") + offset
            elif pattern is UTC_SUFFIX:
                iso = joined.replace(" UTC", "+00:00")
            else:  # an offset ends each cell and its shape is nowhere else in it
                iso = _FRACTION.sub("", joined.replace("Z", "+00:00"))
                for offset in set(shapes[1].findall(iso)):
                    iso = iso.replace(offset, f"{offset[-5:-2]}:{offset[-2:]}")
            try:
                whens = list(map(datetime.fromisoformat, iso.split("\n")))
            except ValueError:  # a day that does not exist: parse_time names it
                return None
            return list(map(datetime.date, whens)) if self.dates else whens
        return None

    def _read(self, text: str) -> date | None:
        cell = text.strip() if self.optional else text
        if self.optional and not cell:
            return None
        when = self._quick(cell)
        if when is None:
            when = parse_time(cell, patterns=self.patterns, fmt=self.fmt, line=None,
                              column=self.name, tz=self.tz, expected=self.expected)
        return when.date() if self.dates else when

    def _quick(self, text: str) -> datetime | None:
        for shape, pattern in self.quick:
            if shape.fullmatch(text) is None:
                continue
            try:
                naive = datetime.fromisoformat(text[:19])
            except ValueError:  # a day that does not exist: parse_time names it
                return None
            if pattern is LOCAL or pattern is LOCAL_MINUTES:
                zone = self.tz
            elif pattern is UTC_SUFFIX:
                zone = timezone.utc
            else:
                zone = self._zone(text[20:] if pattern is SPACED_OFFSET else text[19:])
            return naive.replace(tzinfo=zone)
        return None

    def _zone(self, suffix: str) -> timezone:
        """The zone of an ISO suffix (``.123-04:00``, ``Z``) or a ``-0400`` offset."""
        offset = suffix.lstrip(".0123456789")
        zone = self.zones.get(offset)
        if zone is None:
            if offset == "Z":
                zone = timezone.utc
            else:
                sign = -1 if offset[0] == "-" else 1
                minutes = int(offset[1:3]) * 60 + int(offset[-2:])
                zone = timezone(sign * timedelta(minutes=minutes))
            self.zones[offset] = zone
        return zone


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
