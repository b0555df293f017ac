"""Legal calling hours, as pure functions.

A call may start at minute ``t`` (UTC) when ``t`` is inside the agent's business hours in
the agent's time zone *and* inside 08:00-21:00 in the callee's time zone. Windows are
half-open (``[start, end)`` in local wall-clock time). :func:`next_allowed` is the first
such minute at or after a moment.

Daylight saving time: a local wall-clock window is checked by converting each candidate
instant to local time (never the other way round), so an instant is allowed only if its
local time really is inside the window. To jump ahead fast, the next window start is
converted to an instant; when the zone's UTC offset differs between the candidate and
that instant (a transition lies between), the transition is found by bisection and the
search goes on from it, so no allowed minute is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALLEE_WINDOW = ((time(8, 0), time(21, 0)),)
MINUTE = timedelta(minutes=1)
HORIZON = timedelta(days=15)

# One day's windows: (start, end) local times; end ``None`` means midnight (24:00).
Window = tuple[time, time | None]
Hours = Mapping[int, Sequence[Window]]  # weekday (0 = Monday) -> windows


class NoWindow(ValueError):
    """No allowed minute within the horizon (no business hours at all, say)."""


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_clock(value: str) -> time | None:
    """``HH:MM`` (``24:00`` is midnight at the end of the day: None); ValueError."""
    if value == "24:00":
        return None
    hh, _, mm = value.partition(":")
    if len(hh) != 2 or len(mm) != 2 or not (hh + mm).isdigit():
        raise ValueError(f"'{value}' is not HH:MM")
    return time(int(hh), int(mm))


def parse_hours(raw: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[int, list[Window]]:
    """``{"mon": [{"start": "09:00", "end": "17:00"}], ...}`` as :data:`Hours`."""
    out: dict[int, list[Window]] = {}
    for key, windows in raw.items():
        day = WEEKDAYS.index(key)
        out[day] = [(parse_clock(w["start"]) or time(0), parse_clock(w["end"]))
                    for w in windows]
    return out


def ceil_minute(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + MINUTE


def _inside(clock: time, windows: Sequence[Window]) -> bool:
    return any(start <= clock and (end is None or clock < end) for start, end in windows)


def allowed_in(moment: datetime, tz: ZoneInfo, hours: Hours) -> bool:
    """Whether ``moment``'s local time in ``tz`` is inside that weekday's windows."""
    local = moment.astimezone(tz)
    return _inside(local.time().replace(tzinfo=None), hours.get(local.weekday(), ()))


def _callee_hours() -> dict[int, Sequence[Window]]:
    return {d: CALLEE_WINDOW for d in range(7)}


CALLEE_HOURS = _callee_hours()


def is_allowed(moment: datetime, agent_hours: Hours, agent_tz: str, callee_tz: str) -> bool:
    """Whether a call may start at ``moment``."""
    return (allowed_in(moment, zone(agent_tz), agent_hours)
            and allowed_in(moment, zone(callee_tz), CALLEE_HOURS))


def _next_start(local: datetime, hours: Hours) -> datetime | None:
    """The next window start strictly after the naive local time ``local`` (naive)."""
    day: date = local.date()
    for offset in range(8):
        d = day + timedelta(days=offset)
        starts = sorted(start for start, _ in hours.get(d.weekday(), ()))
        for start in starts:
            candidate = datetime.combine(d, start)
            if candidate > local:
                return candidate
    return None


def _transition(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """The first minute in ``(lo, hi]`` whose UTC offset in ``tz`` differs from ``lo``'s
    (``lo``'s and ``hi``'s offsets differ)."""
    base = lo.astimezone(tz).utcoffset()
    lo_m, hi_m = 0, int((hi - lo) / MINUTE)
    while hi_m - lo_m > 1:
        mid = (lo_m + hi_m) // 2
        if (lo + mid * MINUTE).astimezone(tz).utcoffset() == base:
            lo_m = mid
        else:
            hi_m = mid
    return lo + hi_m * MINUTE


def _next_in_zone(moment: datetime, tz: ZoneInfo, hours: Hours) -> datetime | None:
    """``moment`` if allowed in ``tz``; else a later minute no later than the first one
    allowed there (None: never allowed)."""
    if allowed_in(moment, tz, hours):
        return moment
    local = moment.astimezone(tz)
    start = _next_start(local.replace(tzinfo=None), hours)
    if start is None:
        return None
    candidate = ceil_minute(start.replace(tzinfo=tz).astimezone(UTC))
    if candidate.astimezone(tz).utcoffset() != local.utcoffset():
        # A transition lies between: go on from it (its offset holds from there).
        return max(moment + MINUTE, _transition(moment, max(candidate, moment + MINUTE),
                                                tz))
    return max(candidate, moment + MINUTE)


def next_allowed(now: datetime, agent_hours: Hours, agent_tz: str, callee_tz: str,
                 *, horizon: timedelta = HORIZON) -> datetime:
    """The first minute at or after ``now`` (UTC) when a call may start: inside the
    agent's business hours (``agent_tz``) and 08:00-21:00 in ``callee_tz``.
    :class:`NoWindow` when there is none within ``horizon``."""
    a_tz, c_tz = zone(agent_tz), zone(callee_tz)
    t = ceil_minute(now)
    end = t + horizon
    while t < end:
        a = _next_in_zone(t, a_tz, agent_hours)
        c = _next_in_zone(t, c_tz, CALLEE_HOURS)
        if a is None or c is None:
            break
        if a == t and c == t:
            return t
        t = max(a, c)
    raise NoWindow("no allowed calling minute ahead")
