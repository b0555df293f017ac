"""The leads table's columns: which exist, which are shown by default, and how a user's
choice is read (unknown names dropped, order kept)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    label: str            # message key
    sort: str | None      # the list's sort key, when sortable
    phone: bool = True    # shown on phone-width screens


COLUMNS: dict[str, Column] = {c.key: c for c in (
    Column("name", "col.name", "last_name"),
    Column("email", "col.email", "email", phone=False),
    Column("phone", "col.phone", "phone", phone=False),
    Column("company", "col.company", "company", phone=False),
    Column("job_title", "col.job_title", "job_title", phone=False),
    Column("status", "col.status", "status"),
    Column("stage", "col.stage", None, phone=False),
    Column("owner", "col.owner", None, phone=False),
    Column("score", "col.score", "score"),
    Column("temperature", "col.temperature", "temperature", phone=False),
    Column("tags", "col.tags", None, phone=False),
    Column("source", "col.source", "source", phone=False),
    Column("last_contacted_at", "col.last_contacted_at", "last_contacted_at", phone=False),
    Column("created_at", "col.created_at", "created_at", phone=False),
)}
DEFAULT = ("name", "email", "company", "status", "stage", "owner", "score", "tags",
           "created_at")
SORTS = frozenset(c.sort for c in COLUMNS.values() if c.sort) | {"first_name", "updated_at"}


def chosen(keys: list[str] | None) -> list[Column]:
    picked = [COLUMNS[k] for k in (keys or []) if k in COLUMNS]
    return picked or [COLUMNS[k] for k in DEFAULT]


def clean_sort(sort: str | None) -> str:
    """A sort of one known column (``-`` for descending), else newest first."""
    if sort and sort.lstrip("-") in SORTS:
        return sort
    return "-created_at"
