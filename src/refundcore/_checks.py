"""Construction-time checks shared by the domain records.

Each check raises :class:`~refundcore.errors.InvalidRecord` naming the
record type, its id, the field and the value, so that a bad row in a batch
of thousands can be found from the message alone.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from refundcore.currencies import CURRENCIES
from refundcore.errors import InvalidRecord
from refundcore.money import Money

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_set = object.__setattr__


class Checker:
    """Checks the fields of one record; every failure names the record and field."""

    __slots__ = ("name", "record", "record_id")

    def __init__(self, record: object, record_id: object) -> None:
        self.record = record
        self.name = type(record).__name__
        self.record_id = record_id

    def fail(self, field: str, reason: str, value: Any) -> NoReturn:
        """Raise :class:`InvalidRecord` for ``field``."""
        raise InvalidRecord(
            reason, value=value, record=self.name, record_id=self.record_id, field=field
        )

    def _get(self, field: str) -> Any:
        return getattr(self.record, field)

    def text(self, field: str, *, optional: bool = False) -> None:
        """The field is a non-blank ``str`` (or ``None`` when optional)."""
        value = self._get(field)
        if value is None and optional:
            return
        if not isinstance(value, str) or not value.strip():
            self.fail(field, "must be a non-blank str", value)

    def flag(self, field: str) -> None:
        """The field is a ``bool``."""
        value = self._get(field)
        if not isinstance(value, bool):
            self.fail(field, "must be a bool", value)

    def currency(self, field: str) -> None:
        """The field is an ISO 4217 code refundcore knows."""
        value = self._get(field)
        if not isinstance(value, str) or value not in CURRENCIES:
            self.fail(field, "must be an active ISO 4217 currency code", value)

    def aware(self, field: str, *, optional: bool = False, not_before: str | None = None) -> None:
        """The field is a timezone-aware ``datetime``, not earlier than ``not_before``."""
        value = self._get(field)
        if value is None and optional:
            return
        if not isinstance(value, datetime):
            self.fail(field, "must be a datetime", value)
        if value.utcoffset() is None:
            self.fail(field, "must be timezone-aware (a naive datetime is ambiguous)", value)
        if not_before is not None:
            earlier = self._get(not_before)
            if earlier is not None and value < earlier:
                self.fail(field, f"must not be before {not_before} ({earlier.isoformat()})", value)

    def count(self, field: str, *, minimum: int = 1) -> int:
        """The field is an ``int`` (not ``bool``) of at least ``minimum``."""
        value = self._get(field)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(field, "must be an int", value)
        if value < minimum:
            self.fail(field, "must be positive" if minimum == 1 else f"must be >= {minimum}", value)
        return value

    def money(
        self,
        field: str,
        currency: str | None,
        *,
        positive: bool = False,
        optional: bool = False,
    ) -> None:
        """The field is non-negative :class:`Money` (positive if asked) in ``currency``."""
        value = self._get(field)
        if value is None and optional:
            return
        if not isinstance(value, Money):
            self.fail(field, "must be Money", value)
        if currency is not None and value.currency != currency:
            self.fail(field, f"must be in {currency}", value)
        if value.minor < 0 or (positive and value.minor == 0):
            self.fail(field, "must be positive" if positive else "must not be negative", value)

    def member(self, field: str, kind: type[E]) -> None:
        """The field is a member of the enum ``kind``."""
        value = self._get(field)
        if not isinstance(value, kind):
            allowed = ", ".join(f"{kind.__name__}.{m.name}" for m in kind)
            self.fail(field, f"must be one of {allowed}", value)

    def items(self, field: str, kind: type[T], *, nonempty: bool = False) -> tuple[T, ...]:
        """The field is a tuple (a list is accepted and frozen) of ``kind`` items."""
        value = self._get(field)
        if isinstance(value, list):
            value = tuple(value)
            _set(self.record, field, value)
        if not isinstance(value, tuple):
            self.fail(field, f"must be a tuple of {kind.__name__}", value)
        for item in value:
            if not isinstance(item, kind):
                self.fail(field, f"must hold only {kind.__name__}", item)
        if nonempty and not value:
            self.fail(field, "must not be empty", value)
        return value

    def unique(self, field: str, keys: Iterable[Hashable], *, what: str = "id") -> None:
        """No key appears twice among the items of ``field``."""
        seen: set[Hashable] = set()
        for key in keys:
            if key in seen:
                self.fail(field, f"holds the {what} twice", key)
            seen.add(key)
