"""Legal hours: ``next_allowed`` never answers a minute outside the agent's business hours
or 08:00-21:00 callee time, and never skips an allowed one (hypothesis over every IANA
zone, around DST transitions, with random business hours)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.calls import hours

ZONES = sorted(zoneinfo.available_timezones())
# Days around the transitions most zones use (northern and southern spring and autumn),
# beside plain random moments.
TRANSITION_DAYS = [datetime(y, m, d, tzinfo=UTC) for y in (2024, 2026, 2031)
                   for m, d in ((3, 8), (3, 10), (3, 26), (3, 29), (4, 1), (4, 5), (9, 6),
                                (9, 27), (10, 4), (10, 25), (10, 28), (11, 1), (11, 3))]


def _minutes(m: int) -> time | None:
    return None if m >= 24 * 60 else time(m // 60, m % 60)


@st.composite
def business_hours(draw: st.DrawFn) -> dict[int, list[hours.Window]]:
    out: dict[int, list[hours.Window]] = {}
    for day in range(7):
        if draw(st.booleans()):
            start = draw(st.integers(0, 23 * 60 + 58))
            end = draw(st.integers(start + 1, 24 * 60))
            out[day] = [(_minutes(start) or time(0), _minutes(end))]
    return out


moments = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31),
                 timezones=st.just(UTC)),
    st.builds(lambda day, minutes: day + timedelta(minutes=minutes),
              st.sampled_from(TRANSITION_DAYS), st.integers(-3 * 1440, 3 * 1440)),
)


def _legal(moment: datetime, agent: dict[int, list[hours.Window]], agent_tz: str,
           callee_tz: str) -> bool:
    """The law, written the simplest way (local wall clocks, half-open windows)."""
    a = moment.astimezone(zoneinfo.ZoneInfo(agent_tz))
    c = moment.astimezone(zoneinfo.ZoneInfo(callee_tz))
    in_agent = any(start <= a.time().replace(tzinfo=None) and (
        end is None or a.time().replace(tzinfo=None) < end)
        for start, end in agent.get(a.weekday(), ()))
    return in_agent and time(8) <= c.time().replace(tzinfo=None) < time(21)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(now=moments, agent=business_hours(), agent_tz=st.sampled_from(ZONES),
       callee_tz=st.sampled_from(ZONES))
def test_next_allowed_is_legal_and_the_first(now: datetime, agent: dict[int, list[
        hours.Window]], agent_tz: str, callee_tz: str) -> None:
    try:
        found = hours.next_allowed(now, agent, agent_tz, callee_tz)
    except hours.NoWindow:
        found = None
    start = hours.ceil_minute(now)
    horizon = start + (found - start if found else hours.HORIZON)
    # Every minute before the answer is refused (checked minute by minute for two days,
    # sampled beyond).
    t, step = start, timedelta(minutes=1)
    while t < horizon:
        assert not _legal(t, agent, agent_tz, callee_tz), (t, found)
        t += step if t - start < timedelta(days=2) else timedelta(minutes=7)
    if found is not None:
        assert found >= now and found.second == 0
        assert _legal(found, agent, agent_tz, callee_tz)
        assert hours.is_allowed(found, agent, agent_tz, callee_tz)


@pytest.mark.parametrize(("now", "expected"), [
    # New York springs forward at 02:00 -> 03:00 on 2026-03-08: a 02:30 start is 03:00.
    (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
])
def test_a_window_starting_in_the_spring_gap_opens_at_the_transition(
        now: datetime, expected: datetime) -> None:
    window = {6: [(time(2, 30), time(3, 30))]}
    assert hours.next_allowed(now, window, "America/New_York", "Asia/Tokyo") == expected


def test_the_callee_window_is_half_open() -> None:
    always = {d: [(time(0), None)] for d in range(7)}
    nine_pm = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # 21:00 in New York
    assert not hours.is_allowed(nine_pm, always, "UTC", "America/New_York")
    assert hours.is_allowed(nine_pm - timedelta(minutes=1), always, "UTC",
                            "America/New_York")
    assert hours.next_allowed(nine_pm, always, "UTC", "America/New_York") == datetime(
        2026, 12, 8, 13, 0, tzinfo=UTC)  # 08:00 the next morning


def test_no_overlap_is_no_window() -> None:
    with pytest.raises(hours.NoWindow):
        hours.next_allowed(datetime(2026, 12, 8, tzinfo=UTC), {0: [(time(2), time(3))]},
                           "America/New_York", "America/New_York")
