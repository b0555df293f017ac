"""The decision, without I/O: a rule's candidates, who of them is eligible and why, and
whom the strategy picks. The service loads what it needs (rules, users, loads, rotation
state) and writes what was decided; a dry run only reads.

Strategies:

- ``round_robin``: the members in order, one each; ``weighted``: a smooth weighted
  rotation (weights 3:1 give ``a a b a`` then again, never ``a a a b``). Both walk a
  *schedule* (member indexes) from the slot after the rule's last pick to the next slot
  whose member is eligible, so an ineligible member is skipped without the others
  losing their turn.
- ``least_loaded``: the eligible member with the fewest open leads (ties: member order).
- ``territory``: the first entry whose values hold the lead's field value; round-robin
  among that entry's users (each entry rotates on its own, ``bucket`` = its index).
- ``specific_user``: the one member.

When nobody is eligible: the rule's fallback user (if active), or no owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from leadbase.users import hours

# Why a candidate is not eligible (stable codes; the dry run answers them).
INACTIVE = "inactive"
NOT_A_USER = "not_a_user"
VIEWER = "viewer_role"
OUT_OF_OFFICE = "out_of_office"
OUTSIDE_HOURS = "outside_working_hours"
AT_CAPACITY = "at_capacity"
NOT_IN_TERRITORY = "not_in_territory"
EXCLUDED = "excluded"


@dataclass(frozen=True)
class Member:
    user_id: uuid.UUID
    weight: int = 1


@dataclass(frozen=True)
class Entry:
    values: tuple[Any, ...]
    user_ids: tuple[uuid.UUID, ...]


@dataclass
class LoadedRule:
    """A rule as the engine uses it. ``matcher`` is the parsed condition (None: every
    lead); ``entry_matchers`` the territory entries as parsed ``field in values``
    predicates; ``broken`` says why a stored rule no longer parses (it then matches
    nothing)."""

    id: uuid.UUID
    name: str
    position: int
    strategy: str
    members: tuple[Member, ...]
    respect_working_hours: bool
    respect_capacity: bool
    fallback: str
    fallback_user_id: uuid.UUID | None
    version: int
    matcher: Any = None
    entry_matchers: tuple[Any, ...] = ()
    entries: tuple[Entry, ...] = ()
    broken: str | None = None
    needs: frozenset[Any] = field(default_factory=frozenset)


@dataclass(frozen=True)
class UserState:
    """What eligibility reads of a user."""

    id: uuid.UUID
    name: str
    role: str
    is_active: bool
    capacity: int | None
    working_hours: Mapping[str, Any]
    timezone: str | None
    out_of_office_until: date | None


@dataclass
class Candidate:
    user_id: uuid.UUID
    name: str | None
    weight: int
    eligible: bool
    reasons: list[str]
    open_leads: int | None
    capacity: int | None
    local_time: str | None


@dataclass
class Decision:
    """What the rules decided for one lead. ``outcome``: ``assigned`` (a member),
    ``fallback_user``, ``unassigned`` (a rule matched, nobody eligible, no fallback
    user), ``no_rule`` (no rule matched)."""

    rule: LoadedRule | None
    user_id: uuid.UUID | None
    outcome: str
    candidates: list[Candidate]
    bucket: int | None = None
    slot: int | None = None  # the schedule slot picked (rotations)
    checked: list[tuple[LoadedRule, bool]] = field(default_factory=list)


def schedule(weights: Sequence[int]) -> tuple[int, ...]:
    """The smooth weighted round-robin order of member indexes (nginx's): one cycle of
    ``sum(weights)`` slots in which member i appears ``weights[i]`` times, spread out."""
    return _schedule(tuple(weights))


@lru_cache(maxsize=512)
def _schedule(weights: tuple[int, ...]) -> tuple[int, ...]:
    total = sum(weights)
    current = [0] * len(weights)
    out: list[int] = []
    for _ in range(total):
        for i, w in enumerate(weights):
            current[i] += w
        best = max(range(len(weights)), key=lambda i: (current[i], -i))
        current[best] -= total
        out.append(best)
    return tuple(out)


def rotation_of(rule: LoadedRule, bucket: int) -> tuple[tuple[uuid.UUID, ...], tuple[int, ...]]:
    """(users, schedule of their indexes) that the rule's bucket rotates over."""
    if rule.strategy == "territory":
        users = rule.entries[bucket].user_ids
        return users, tuple(range(len(users)))
    users = tuple(m.user_id for m in rule.members)
    if rule.strategy == "weighted":
        return users, schedule([m.weight for m in rule.members])
    return users, tuple(range(len(users)))


def next_slot(eligible_slots: Sequence[int], position: int | None) -> int | None:
    """The first eligible slot after ``position`` (wrapping), or None when none is."""
    if not eligible_slots:
        return None
    if position is not None:
        for slot in eligible_slots:
            if slot > position:
                return slot
    return eligible_slots[0]


def needs_load(rule: LoadedRule, user: UserState | None) -> bool:
    """Whether choosing for ``rule`` must know (and lock) ``user``'s open-lead count."""
    if user is None:
        return False
    return rule.strategy == "least_loaded" or (rule.respect_capacity
                                               and user.capacity is not None)


def evaluate(rule: LoadedRule, user_id: uuid.UUID, weight: int, user: UserState | None, *,
             now: datetime, default_timezone: str, load: int | None,
             in_territory: bool = True, excluded: bool = False) -> Candidate:
    """One candidate and every reason they cannot take the lead now."""
    reasons: list[str] = []
    local_time = None
    if user is None:
        return Candidate(user_id=user_id, name=None, weight=weight, eligible=False,
                         reasons=[NOT_A_USER], open_leads=None, capacity=None, local_time=None)
    at = hours.local(now, user.timezone or default_timezone)
    local_time = at.strftime("%a %H:%M")
    if excluded:
        reasons.append(EXCLUDED)
    if not in_territory:
        reasons.append(NOT_IN_TERRITORY)
    if not user.is_active:
        reasons.append(INACTIVE)
    if user.role == "viewer":
        reasons.append(VIEWER)
    if hours.out_of_office(user.out_of_office_until, at):
        reasons.append(OUT_OF_OFFICE)
    if rule.respect_working_hours and not hours.is_working(dict(user.working_hours), at):
        reasons.append(OUTSIDE_HOURS)
    if rule.respect_capacity and user.capacity is not None and load is not None \
            and load >= user.capacity:
        reasons.append(AT_CAPACITY)
    return Candidate(user_id=user_id, name=user.name, weight=weight, eligible=not reasons,
                     reasons=reasons, open_leads=load, capacity=user.capacity,
                     local_time=local_time)


def candidates(rule: LoadedRule, users: Mapping[uuid.UUID, UserState], loads: Mapping[
        uuid.UUID, int], *, now: datetime, default_timezone: str, bucket: int | None,
        exclude: uuid.UUID | None = None) -> list[Candidate]:
    """Every member of the rule, evaluated (a territory's members outside the lead's
    entry are listed as ``not_in_territory``)."""
    territory = rule.strategy == "territory"
    in_entry = set(rule.entries[bucket].user_ids) if territory and bucket is not None \
        else set()
    return [evaluate(rule, m.user_id, m.weight, users.get(m.user_id), now=now,
                     default_timezone=default_timezone, load=loads.get(m.user_id),
                     in_territory=not territory or m.user_id in in_entry,
                     excluded=exclude is not None and m.user_id == exclude)
            for m in rule.members]


def choose(rule: LoadedRule, cands: list[Candidate], *, bucket: int | None,
           position: int | None) -> tuple[uuid.UUID | None, int | None]:
    """(the member the strategy picks, the schedule slot for rotations)."""
    eligible = {c.user_id for c in cands if c.eligible}
    if not eligible:
        return None, None
    if rule.strategy == "specific_user":
        return rule.members[0].user_id, None
    if rule.strategy == "least_loaded":
        rank = {m.user_id: i for i, m in enumerate(rule.members)}
        best = min((c for c in cands if c.eligible),
                   key=lambda c: (c.open_leads or 0, rank[c.user_id]))
        return best.user_id, None
    if rule.strategy == "territory" and bucket is None:
        return None, None
    users, order = rotation_of(rule, bucket or 0)
    slots = [s for s, i in enumerate(order) if users[i] in eligible]
    slot = next_slot(slots, position)
    return (users[order[slot]] if slot is not None else None), slot


def fallback(rule: LoadedRule, users: Mapping[uuid.UUID, UserState]) -> uuid.UUID | None:
    """The rule's fallback user, when it has one who is active."""
    if rule.fallback != "user" or rule.fallback_user_id is None:
        return None
    user = users.get(rule.fallback_user_id)
    return user.id if user is not None and user.is_active else None
