"""Persistence: records to JSON-ready dicts and back, stored cases, and case stores.

:func:`to_dict` and :func:`from_dict` turn every record and event into a
JSON-ready dict (tagged with its type and the schema version) and back,
exactly. :class:`StoredCase` is what a store keeps of a return case;
:class:`CaseStore` is the small protocol a store implements, with
compare-and-swap on the case's version, and :class:`MemoryCaseStore` one in
memory. :func:`open_case` and :func:`update_case` are the load, apply, save
loop. A store on disk lives at the edge (:mod:`refundcore.sqlite`); this
package does no I/O.
"""

from __future__ import annotations

from refundcore.persist._codec import SCHEMA_VERSION, from_dict, serialisable_types, to_dict
from refundcore.persist._store import (
    CaseStore,
    MemoryCaseStore,
    StoredCase,
    check_save,
    open_case,
    update_case,
)

__all__ = [
    "SCHEMA_VERSION",
    "CaseStore",
    "MemoryCaseStore",
    "StoredCase",
    "check_save",
    "from_dict",
    "open_case",
    "serialisable_types",
    "to_dict",
    "update_case",
]
