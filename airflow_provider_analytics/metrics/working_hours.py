"""Working hours: which moments count as "outside working hours", in one named time zone.

A metric that asks whether an alert woke someone up needs the local clock, not UTC: the hour and
the weekday are read after converting the instant to `time_zone` (an IANA name, so daylight
saving is the zone's own). Hours run from `start` (inclusive) to `end` (exclusive), to the
minute; an `end` before `start` means a shift across midnight (`22:00-06:00`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from ..source.errors import OptionError

DEFAULT_TIME_ZONE = "UTC"
DEFAULT_WORKING_HOURS = "09:00-17:00"
DEFAULT_WORKING_DAYS = "Mon-Fri"

#: ISO weekday numbers (Monday = 1), as SQL's `extract(isodow ...)` gives them.
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_DAY_NAMES = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
              "sat": "saturday", "sun": "sunday"}
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class WorkingHoursError(OptionError):
    """A working-hours option that cannot be read; the message names the option and the form it takes."""


@dataclass(frozen=True)
class WorkingHours:
    """Working hours in one time zone.

    :param time_zone: IANA name (`Europe/Berlin`); the zone's daylight-saving rules apply.
    :param start_minute: minutes after local midnight when work starts (inclusive).
    :param end_minute: minutes after local midnight when work ends (exclusive); below start: overnight.
    :param days: ISO weekdays (Monday = 1) that are working days, by the local date of the moment.
    """

    time_zone: str = DEFAULT_TIME_ZONE
    start_minute: int = 9 * 60
    end_minute: int = 17 * 60
    days: tuple[int, ...] = (1, 2, 3, 4, 5)

    @classmethod
    def parse(cls, time_zone: str = DEFAULT_TIME_ZONE, hours: str = DEFAULT_WORKING_HOURS,
              days: str = DEFAULT_WORKING_DAYS) -> WorkingHours:
        """From the operator's text options: `Europe/Berlin`, `09:00-17:00`, `Mon-Fri` (or `Mon,Tue,Sat`)."""
        return cls(check_time_zone(time_zone), *parse_hours(hours), parse_days(days))

    def describe(self) -> str:
        """`09:00-17:00 Mon-Fri, Europe/Berlin`: for logs and the report."""
        names = {number: name.capitalize() for name, number in WEEKDAYS.items()}
        days = ",".join(names[d] for d in self.days)
        return f"{_clock(self.start_minute)}-{_clock(self.end_minute)} {days}, {self.time_zone}"


def check_time_zone(name: str) -> str:
    """`name` if it is an IANA time zone this machine knows; else WorkingHoursError."""
    text = (name or "").strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        close = sorted(z for z in available_timezones() if z.lower().endswith(text.lower().split("/")[-1]))[:3]
        hint = f" (did you mean {', '.join(close)}?)" if close and text else ""
        raise WorkingHoursError(
            f"time_zone={name!r} is not an IANA time zone{hint}; use a name such as 'UTC' or 'Europe/Berlin'."
        ) from None
    if "'" in text:  # it goes into SQL as a literal
        raise WorkingHoursError(f"time_zone={name!r} is not an IANA time zone.")
    return text


def parse_hours(text: str) -> tuple[int, int]:
    """`09:00-17:00` -> (540, 1020); WorkingHoursError for anything else."""
    m = _HOURS_RE.match(text or "")
    if not m:
        raise WorkingHoursError(f"working_hours={text!r} is not a range of local times; write it as '09:00-17:00'.")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise WorkingHoursError(f"working_hours={text!r} has a time that does not exist; hours go 00:00 to 24:00.")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == end:
        raise WorkingHoursError(f"working_hours={text!r} is empty: it starts and ends at the same time.")
    return start, end


def parse_days(text: str) -> tuple[int, ...]:
    """`Mon-Fri` or `Mon,Wed,Sat` (ranges and lists mix) -> ISO weekdays, sorted."""
    days: set[int] = set()
    for part in (text or "").split(","):
        ends = [_weekday_key(p) for p in part.split("-")]
        if not all(e in WEEKDAYS for e in ends) or len(ends) > 2:
            raise WorkingHoursError(
                f"working_days={text!r}: {part.strip()!r} is not a weekday or a range of them; "
                "write e.g. 'Mon-Fri' or 'Mon,Tue,Sat'."
            )
        first, last = WEEKDAYS[ends[0]], WEEKDAYS[ends[-1]]
        days.update(range(first, last + 1) if first <= last else [*range(first, 8), *range(1, last + 1)])
    return tuple(sorted(days))


def _weekday_key(word: str) -> str:
    """`mon` for `Mon`, `Mond` or `Monday` (a day's name cut anywhere after its third letter); else the word."""
    word = word.strip().lower()
    return next((key for key, name in _DAY_NAMES.items() if len(word) >= 3 and name.startswith(word)), word)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
