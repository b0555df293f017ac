"""A scoring model and the arithmetic of a score, pure (no database).

A lead's score, step by step (the SQL of ``scoring.sql`` computes exactly the same):

1. ``points``: the sum of the points of every rule whose condition the lead matches
   (a rule's points are positive or negative);
2. clamped to 0–100 (an item ``"capped at 100: -15"`` or ``"no lower than 0: +5"`` says
   so);
3. decay with inactivity, ``idle`` whole days since the lead's last activity (its
   creation when it has none): with a half-life of ``h`` days the score is multiplied by
   ``0.5 ** (idle / h)``; with points per idle day it loses ``points_per_day * idle``
   (never below 0); rounded half up (an item ``"no activity for 21 days: -12"``);
4. the temperature: ``hot`` at or above the hot threshold, ``warm`` at or above the warm
   one, ``cold`` below.

The breakdown lists the items in that order; their points add up to the score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadbase import rules

MIN_SCORE, MAX_SCORE = 0, 100
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Decay:
    mode: str  # "half_life" | "per_day"
    half_life_days: int | None = None
    points_per_day: float | None = None

    def to_json(self) -> dict[str, Any]:
        if self.mode == "half_life":
            return {"mode": "half_life", "half_life_days": self.half_life_days}
        return {"mode": "per_day", "points_per_day": self.points_per_day}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Decay | None:
        if not data:
            return None
        return cls(mode=data["mode"], half_life_days=data.get("half_life_days"),
                   points_per_day=data.get("points_per_day"))


@dataclass(frozen=True)
class ScoringRule:
    """One rule of a model, checked against the workspace's catalog."""

    name: str
    points: int
    rule: rules.Rule
    words: str  # rules.describe(rule): "source is website"

    @property
    def why(self) -> str:
        return f"{self.words}: {self.points:+d}"

    def item(self) -> dict[str, Any]:
        return {"kind": "rule", "rule": self.name, "points": self.points, "why": self.why}


@dataclass(frozen=True)
class Model:
    """A version of a workspace's scoring model, ready to compute with."""

    version: int
    rules: tuple[ScoringRule, ...]
    decay: Decay | None
    hot: int
    warm: int
    # Stored rules that no longer check against the catalog (a custom field deleted since
    # the model was saved): left out of every score, reported on the model.
    broken: tuple[dict[str, Any], ...] = ()

    def temperature(self, score: int) -> str:
        if score >= self.hot:
            return "hot"
        if score >= self.warm:
            return "warm"
        return "cold"

    @property
    def needs(self) -> frozenset[Any]:
        needs: frozenset[Any] = rules.combine_needs(*(r.rule for r in self.rules))
        return needs


def idle_days(since: datetime, now: datetime) -> int:
    """Whole days from ``since`` to ``now`` (0 when ``since`` is later)."""
    return max(0, (now - since) // DAY)


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def decay_loss(decay: Decay | None, base: int, idle: int) -> int:
    """The points ``base`` loses after ``idle`` days (0 or more, at most ``base``)."""
    if decay is None or idle <= 0 or base <= 0:
        return 0
    if decay.mode == "half_life":
        assert decay.half_life_days
        kept = round_half_up(float(base) * 0.5 ** (float(idle) / float(decay.half_life_days)))
        return base - kept
    assert decay.points_per_day is not None
    return min(base, round_half_up(float(decay.points_per_day) * float(idle)))


def days_words(idle: int) -> str:
    return f"{idle} day" if idle == 1 else f"{idle} days"


@dataclass(frozen=True)
class Result:
    score: int
    temperature: str
    breakdown: dict[str, Any]


def compute(model: Model, matched: Sequence[bool], *, since: datetime, now: datetime,
            computed_at: str) -> Result:
    """The score of a lead that matches ``matched[i]`` of the model's rules, idle since
    ``since``; ``computed_at`` is the moment written into the breakdown."""
    items = [r.item() for r, hit in zip(model.rules, matched, strict=True) if hit]
    points = sum(r.points for r, hit in zip(model.rules, matched, strict=True) if hit)
    base = min(MAX_SCORE, max(MIN_SCORE, points))
    if base != points:
        items.append(cap_item(points, base))
    idle = idle_days(since, now)
    loss = decay_loss(model.decay, base, idle)
    if loss:
        items.append({"kind": "decay", "rule": None, "points": -loss,
                      "why": f"no activity for {days_words(idle)}: {-loss:+d}"})
    score = base - loss
    temperature = model.temperature(score)
    return Result(score=score, temperature=temperature,
                  breakdown=breakdown(model, points=points, items=items, score=score,
                                      temperature=temperature, computed_at=computed_at))


def cap_item(points: int, base: int) -> dict[str, Any]:
    why = (f"capped at {MAX_SCORE}: {base - points:+d}" if points > base
           else f"no lower than {MIN_SCORE}: {base - points:+d}")
    return {"kind": "cap", "rule": None, "points": base - points, "why": why}


def breakdown(model: Model, *, points: int, items: list[dict[str, Any]], score: int,
              temperature: str, computed_at: str) -> dict[str, Any]:
    return {"model_version": model.version, "computed_at": computed_at, "points": points,
            "score": score, "temperature": temperature, "items": items}
