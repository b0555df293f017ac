"""Loading the workspace's rules for deciding, and deciding: one lead (a new one before
it is written, an existing one, or a dry run) or a batch set-based.

Concurrency (see DECISIONS.md, "Assignment under concurrency"):

- A rotation's pick is one atomic statement on the rule's state row, in a transaction
  of its own beside the lead's (:mod:`leadbase.assignment.picks`; batches:
  :func:`_side`): the row lock serialises picks of one rule and each starts from the
  last one's slot (7 members get turns that differ by at most one), and it is not kept
  until the lead's transaction commits.
- Users whose open-lead count matters (``least_loaded``; capacities the rule respects) are
  locked (transaction advisory locks, sorted) before their leads are counted, in the next
  statement, so two transactions never both see room for one more.
- The loads' locks are taken in the lead's transaction; a pick's state row lock never
  waits on anything else (its transaction holds nothing more), so no cycle forms.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from leadbase import rules
from leadbase.assignment import engine, picks, repository
from leadbase.assignment.engine import Decision, LoadedRule, UserState
from leadbase.db.session import SCOPE_KEY_INFO, scope
from leadbase.kit.errors import ValidationFailed

log = logging.getLogger(__name__)

PARSED_TTL_SECONDS = 60.0
_parsed: dict[tuple[uuid.UUID, int], tuple[float, LoadedRule]] = {}


@dataclass
class Ruleset:
    rules: list[LoadedRule]
    users: dict[uuid.UUID, UserState]

    @property
    def needs(self) -> frozenset[Any]:
        out: frozenset[Any] = frozenset()
        for r in self.rules:
            out |= r.needs
        return out


@asynccontextmanager
async def _side(session: AsyncSession, tenant_id: uuid.UUID, *,
                scoped: bool = True) -> AsyncIterator[AsyncSession]:
    """A short transaction of its own in the workspace, beside ``session``'s (another
    connection of the same pool), committed when the block ends (``scoped=False``: the
    caller sends ``scope_statement`` first itself, in its first round trip)."""
    bind = session.bind
    assert isinstance(bind, AsyncEngine)
    async with AsyncSession(bind=bind) as side, side.begin():
        side.info[SCOPE_KEY_INFO] = session.info[SCOPE_KEY_INFO]
        if scoped:
            await scope(side, tenant_id)
        yield side


def _user(row: Mapping[str, Any]) -> UserState:
    return UserState(id=row["id"], name=row["name"], role=row["role"],
                     is_active=row["is_active"], capacity=row["capacity"],
                     working_hours=row["working_hours"] or {}, timezone=row["timezone"],
                     out_of_office_until=row["out_of_office_until"])


def _loaded(row: Mapping[str, Any], catalog: Any) -> LoadedRule:
    territory = row["territory"]
    entries = tuple(engine.Entry(values=tuple(e["values"]),
                                 user_ids=tuple(uuid.UUID(u) for u in e["user_ids"]))
                    for e in (territory or {}).get("entries", ()))
    rule = LoadedRule(
        id=row["id"], name=row["name"], position=row["position"], strategy=row["strategy"],
        members=tuple(engine.Member(uuid.UUID(m["user_id"]), int(m["weight"]))
                      for m in row["members"]),
        respect_working_hours=row["respect_working_hours"],
        respect_capacity=row["respect_capacity"], fallback=row["fallback"],
        fallback_user_id=row["fallback_user_id"], version=row["version"], entries=entries)
    try:
        parsed = []
        if row["condition"] is not None:
            rule.matcher = rules.parse(row["condition"], catalog)
            parsed.append(rule.matcher)
        matchers = []
        for i, e in enumerate(entries):
            pred = rules.parse({"field": territory["field"], "op": "in",
                                "value": list(e.values)}, catalog,
                               path=f"territory.entries[{i}]")
            matchers.append(pred)
            parsed.append(pred)
        rule.entry_matchers = tuple(matchers)
        rule.needs = rules.combine_needs(*parsed)
    except ValidationFailed as exc:  # a field or stage it named is gone
        rule.broken = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors or [])
        log.warning("assignment rule %s no longer parses: %s", row["id"], rule.broken)
    return rule


# The rulesets new leads are decided with, per workspace, for a moment (a create's round
# trip fewer): changes made in this process are seen at once (:func:`forget`), others'
# within HOT_TTL_SECONDS. Explicit requests (auto-assign, dry runs, jobs) read afresh.
HOT_TTL_SECONDS = 2.0
_hot: dict[uuid.UUID, tuple[float, Ruleset]] = {}


def forget(tenant_id: uuid.UUID) -> None:
    """The workspace's rules or users changed: decide afresh."""
    _hot.pop(tenant_id, None)


async def load_hot(session: AsyncSession, *, tenant_id: uuid.UUID) -> Ruleset:
    """:func:`load`, reused for HOT_TTL_SECONDS (the create path)."""
    hit = _hot.get(tenant_id)
    now = time.monotonic()
    if hit is not None and now - hit[0] < HOT_TTL_SECONDS:
        return hit[1]
    ruleset = await load(session, tenant_id=tenant_id)
    _hot[tenant_id] = (now, ruleset)
    return ruleset


async def load(session: AsyncSession, *, tenant_id: uuid.UUID) -> Ruleset:
    """The enabled rules (parsed once per version and process, for a minute) and the
    users they name, in one round trip (plus the catalog when a rule is new here)."""
    rows, users = await repository.enabled_rules(session, tenant_id=tenant_id)
    now = time.monotonic()
    out: list[LoadedRule | None] = []
    missing = []
    for row in rows:
        hit = _parsed.get((row["id"], row["version"]))
        if hit is not None and now - hit[0] < PARSED_TTL_SECONDS:
            out.append(hit[1])
        else:
            out.append(None)
            missing.append(row)
    if missing:
        catalog = await rules.load_catalog(session, tenant_id=tenant_id)
        for row in missing:
            _parsed[(row["id"], row["version"])] = (now, _loaded(row, catalog))
        out = [_parsed[(r["id"], r["version"])][1] for r in rows]
    loaded = [r for r in out if r is not None]
    return Ruleset(rules=loaded, users={u["id"]: _user(u) for u in users})


def first_match(ruleset: Ruleset, facts: Any, *, now: datetime
                ) -> tuple[LoadedRule | None, int | None, list[tuple[LoadedRule, bool]]]:
    """The first rule whose condition holds (and, for a territory, the entry whose
    values hold the lead's), and each rule checked on the way."""
    checked: list[tuple[LoadedRule, bool]] = []
    for rule in ruleset.rules:
        ok = rule.broken is None and (rule.matcher is None
                                      or rules.matches(rule.matcher, facts, now=now))
        checked.append((rule, ok))
        if ok:
            bucket = None
            if rule.strategy == "territory":
                bucket = next((i for i, m in enumerate(rule.entry_matchers)
                               if rules.matches(m, facts, now=now)), None)
            return rule, bucket, checked
    return None, None, checked


def load_caps(rule: LoadedRule, users: Mapping[uuid.UUID, UserState],
              exclude: uuid.UUID | None = None) -> dict[uuid.UUID, int]:
    """The users whose load the rule's choice reads, each with how far to count."""
    caps: dict[uuid.UUID, int] = {}
    for m in rule.members:
        user = users.get(m.user_id)
        if m.user_id != exclude and engine.needs_load(rule, user):
            assert user is not None
            caps[m.user_id] = (repository.LOAD_CAP if rule.strategy == "least_loaded"
                               else max(user.capacity or 0, 1))
    return caps


def _finish(rule: LoadedRule, users: Mapping[uuid.UUID, UserState], chosen: uuid.UUID | None,
            cands: list[engine.Candidate], bucket: int | None, slot: int | None,
            checked: list[tuple[LoadedRule, bool]]) -> Decision:
    if chosen is not None:
        return Decision(rule=rule, user_id=chosen, outcome="assigned", candidates=cands,
                        bucket=bucket, slot=slot, checked=checked)
    backup = engine.fallback(rule, users)
    return Decision(rule=rule, user_id=backup,
                    outcome="fallback_user" if backup else "unassigned",
                    candidates=cands, bucket=bucket, checked=checked)


async def decide_one(session: AsyncSession, *, tenant_id: uuid.UUID, ruleset: Ruleset,
                     facts: Any, now: datetime, default_timezone: str, dry_run: bool,
                     exclude: uuid.UUID | None = None) -> Decision:
    """The decision for one lead. Not a dry run: the loads are counted under their locks
    and a rotation's pick is written (the caller writes the owner in this transaction)."""
    rule, bucket, checked = first_match(ruleset, facts, now=now)
    if rule is None:
        return Decision(rule=None, user_id=None, outcome="no_rule", candidates=[],
                        checked=checked)
    caps = load_caps(rule, ruleset.users, exclude)
    loads = await repository.loads(session, tenant_id=tenant_id, caps=caps, lock=not dry_run)
    cands = engine.candidates(rule, ruleset.users, loads, now=now,
                              default_timezone=default_timezone, bucket=bucket,
                              exclude=exclude)
    rotating = rule.strategy in ("round_robin", "weighted") or (
        rule.strategy == "territory" and bucket is not None)
    if not rotating:
        chosen, _ = engine.choose(rule, cands, bucket=bucket, position=None)
        return _finish(rule, ruleset.users, chosen, cands, bucket, None, checked)
    key_bucket = bucket or 0
    if dry_run:
        position = (await repository.positions(session, tenant_id=tenant_id,
                                               rule_ids=[rule.id])).get((rule.id, key_bucket))
        chosen, slot = engine.choose(rule, cands, bucket=bucket, position=position)
        return _finish(rule, ruleset.users, chosen, cands, bucket, slot, checked)
    users, order = engine.rotation_of(rule, key_bucket)
    eligible = {c.user_id for c in cands if c.eligible}
    slots = [s for s, i in enumerate(order) if users[i] in eligible]
    if not slots:
        return _finish(rule, ruleset.users, None, cands, bucket, None, checked)
    slot = await picks.pick(session, tenant_id=tenant_id, rule_id=rule.id, bucket=key_bucket,
                            slots=slots)
    return _finish(rule, ruleset.users, users[order[slot]], cands, bucket, slot, checked)


async def decide_many(session: AsyncSession, *, tenant_id: uuid.UUID, ruleset: Ruleset,
                      facts: Mapping[uuid.UUID, Any], order: Sequence[uuid.UUID],
                      now: datetime, default_timezone: str,
                      exclude: uuid.UUID | None = None) -> dict[uuid.UUID, Decision]:
    """Decisions for many leads at once (in ``order``), as if made one after another:
    loads counted once under their locks and carried forward, rotations advanced in
    memory from their locked rows and written once."""
    matched: dict[uuid.UUID, tuple[LoadedRule | None, int | None]] = {}
    for lead_id in order:
        rule, bucket, _ = first_match(ruleset, facts[lead_id], now=now)
        matched[lead_id] = (rule, bucket)
    used = {r.id: r for r, _ in matched.values() if r is not None}
    caps: dict[uuid.UUID, int] = {}
    for rule in used.values():
        for uid, cap in load_caps(rule, ruleset.users, exclude).items():
            caps[uid] = max(caps.get(uid, 0), cap)
    loads = await repository.loads(session, tenant_id=tenant_id, caps=caps, lock=True)
    keys = sorted({(r.id, b or 0) for r, b in matched.values() if r is not None and (
        r.strategy in ("round_robin", "weighted") or (r.strategy == "territory"
                                                        and b is not None))})
    out: dict[uuid.UUID, Decision] = {}
    if not keys:
        _walk(ruleset, matched, order, loads, {}, {}, now, default_timezone, exclude, out)
        return out
    async with _side(session, tenant_id) as side:
        positions: dict[tuple[uuid.UUID, int], int | None] = dict(
            await repository.lock_positions(side, tenant_id=tenant_id, keys=keys))
        picks: dict[tuple[uuid.UUID, int], int] = {}
        _walk(ruleset, matched, order, loads, positions, picks, now, default_timezone,
              exclude, out)
        await repository.save_positions(side, tenant_id=tenant_id, reached={
            k: (int(positions[k] or 0), n) for k, n in picks.items()})
    return out


def _walk(ruleset: Ruleset, matched: Mapping[uuid.UUID, tuple[LoadedRule | None, int | None]],
          order: Sequence[uuid.UUID], loads: dict[uuid.UUID, int],
          positions: dict[tuple[uuid.UUID, int], int | None],
          picks: dict[tuple[uuid.UUID, int], int], now: datetime, default_timezone: str,
          exclude: uuid.UUID | None, out: dict[uuid.UUID, Decision]) -> None:
    """The batch's decisions one lead after another, in memory."""
    for lead_id in order:
        rule, bucket = matched[lead_id]
        if rule is None:
            out[lead_id] = Decision(rule=None, user_id=None, outcome="no_rule", candidates=[])
            continue
        cands = engine.candidates(rule, ruleset.users, loads, now=now,
                                  default_timezone=default_timezone, bucket=bucket,
                                  exclude=exclude)
        key = (rule.id, bucket or 0)
        position = positions.get(key)
        chosen, slot = engine.choose(rule, cands, bucket=bucket,
                                     position=None if position is None or position < 0
                                     else position)
        if slot is not None:
            positions[key] = slot
            picks[key] = picks.get(key, 0) + 1
        decision = _finish(rule, ruleset.users, chosen, cands, bucket, slot, [])
        if decision.user_id is not None and decision.user_id in loads:
            loads[decision.user_id] += 1
        out[lead_id] = decision
