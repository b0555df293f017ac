"""The arithmetic of a score, in memory (scoring.model): clamp, decay and words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadbase.rules import Catalog, parse
from leadbase.scoring.model import Decay, Model, ScoringRule, compute, decay_loss, idle_days

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def _model(points: list[int], decay: Decay | None = None) -> Model:
    rule = parse({"field": "source", "op": "eq", "value": "web"}, Catalog())
    return Model(version=3, rules=tuple(ScoringRule(name=f"r{i}", points=p, rule=rule,
                                                    words=f"rule {i}")
                                        for i, p in enumerate(points)),
                 decay=decay, hot=70, warm=40)


def test_clamp_both_ways() -> None:
    low = compute(_model([10, -30]), [True, True], since=NOW, now=NOW, computed_at="t")
    assert low.score == 0 and low.temperature == "cold"
    assert [i["why"] for i in low.breakdown["items"]] == [
        "rule 0: +10", "rule 1: -30", "no lower than 0: +20"]
    high = compute(_model([80, 40]), [True, True], since=NOW, now=NOW, computed_at="t")
    assert high.score == 100 and high.temperature == "hot"
    assert high.breakdown["items"][-1] == {"kind": "cap", "rule": None, "points": -20,
                                           "why": "capped at 100: -20"}
    assert high.breakdown["points"] == 120 and high.breakdown["model_version"] == 3


def test_decay() -> None:
    assert idle_days(NOW - timedelta(days=2, seconds=-1), NOW) == 1
    assert idle_days(NOW + timedelta(days=3), NOW) == 0
    half = Decay(mode="half_life", half_life_days=10)
    assert decay_loss(half, 80, 10) == 40 and decay_loss(half, 80, 0) == 0
    assert decay_loss(half, 0, 50) == 0
    per_day = Decay(mode="per_day", points_per_day=2.5)
    assert decay_loss(per_day, 50, 3) == 8 and decay_loss(per_day, 5, 30) == 5
    one = compute(_model([50], per_day), [True], since=NOW - timedelta(days=1, hours=1),
                  now=NOW, computed_at="t")
    assert one.score == 47 and one.temperature == "warm"
    assert one.breakdown["items"][-1]["why"] == "no activity for 1 day: -3"
    none = compute(_model([50], per_day), [False], since=NOW - timedelta(days=9), now=NOW,
                   computed_at="t")
    assert none.score == 0 and none.breakdown["items"] == []
    assert sum(i["points"] for i in one.breakdown["items"]) == one.score
