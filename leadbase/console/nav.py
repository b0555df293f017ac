"""The console's main navigation: pages add their entry with ``add`` when their module
is imported (``leadbase.console.routes``)."""

from __future__ import annotations

from dataclasses import dataclass

from leadbase.auth.context import ROLE_RANK


@dataclass(frozen=True)
class NavItem:
    key: str        # the message key of its label
    href: str
    min_role: str = "viewer"
    order: int = 100


_ITEMS: list[NavItem] = []


def add(item: NavItem) -> None:
    if all(i.href != item.href for i in _ITEMS):
        _ITEMS.append(item)
        _ITEMS.sort(key=lambda i: (i.order, i.href))


def visible_items(role: str | None) -> list[NavItem]:
    rank = ROLE_RANK.get(role or "", -1)
    return [i for i in _ITEMS if rank >= ROLE_RANK[i.min_role]]
