"""Reading the working-hours options: time zone, hours (overnight too) and days (ranges and lists)."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.metrics.working_hours import WorkingHours, WorkingHoursError
from airflow_provider_analytics.source.errors import OptionError


def test_the_defaults_are_office_hours_in_utc():
    hours = WorkingHours.parse()
    assert hours == WorkingHours("UTC", 9 * 60, 17 * 60, (1, 2, 3, 4, 5)) == WorkingHours()
    assert hours.describe() == "09:00-17:00 Mon,Tue,Wed,Thu,Fri, UTC"


@pytest.mark.parametrize("text, minutes", [
    ("09:00-17:00", (540, 1020)),
    (" 8:30 - 16:45 ", (510, 1005)),
    ("00:00-24:00", (0, 1440)),
    ("22:00-06:00", (1320, 360)),  # overnight: the end comes before the start
    ("23:59-00:00", (1439, 0)),
])
def test_hours_are_read_to_the_minute(text, minutes):
    hours = WorkingHours.parse("Europe/Berlin", text, "Mon")
    assert (hours.start_minute, hours.end_minute) == minutes


@pytest.mark.parametrize("text, days", [
    ("Mon-Fri", (1, 2, 3, 4, 5)),
    ("mon-fri", (1, 2, 3, 4, 5)),
    ("Monday-Friday", (1, 2, 3, 4, 5)),
    ("Tues,Thurs", (2, 4)),
    ("Sat", (6,)),
    ("Sun,Sat,Mon", (1, 6, 7)),
    ("Mon-Thu,Sat", (1, 2, 3, 4, 6)),
    ("Fri-Mon", (1, 5, 6, 7)),  # a range across the weekend wraps
    ("Mon-Wed, Tue-Thu", (1, 2, 3, 4)),  # overlaps count once
    ("Mon-Sun", (1, 2, 3, 4, 5, 6, 7)),
])
def test_days_are_ranges_lists_or_both(text, days):
    assert WorkingHours.parse("UTC", "09:00-17:00", text).days == days


def test_describe_says_what_was_read():
    hours = WorkingHours.parse("America/New_York", "22:00-06:00", "Fri-Mon")
    assert hours.describe() == "22:00-06:00 Mon,Fri,Sat,Sun, America/New_York"


@pytest.mark.parametrize("text, says", [
    ("9-17", "write it as '09:00-17:00'"),
    ("09:00", "write it as '09:00-17:00'"),
    ("09:00-17:00-18:00", "write it as '09:00-17:00'"),
    ("", "write it as '09:00-17:00'"),
    ("9am-5pm", "write it as '09:00-17:00'"),
    ("25:00-17:00", "does not exist"),
    ("09:60-17:00", "does not exist"),
    ("09:00-24:30", "does not exist"),
    ("09:00-09:00", "is empty"),
    ("00:00-24:00:00", "write it as '09:00-17:00'"),
])
def test_hours_that_cannot_be_read_say_how_to_write_them(text, says):
    with pytest.raises(WorkingHoursError, match="working_hours=") as raised:
        WorkingHours.parse("UTC", text, "Mon-Fri")
    assert says in str(raised.value)


@pytest.mark.parametrize("text", ["", "Mon-", "Mo-Fr", "weekdays", "Mon-Wed-Fri", "Mon;Tue", "Mon Tue", "Mondays",
                                  "Month", "1-5", "Mon,,Tue"])
def test_days_that_cannot_be_read_say_how_to_write_them(text):
    with pytest.raises(WorkingHoursError, match=r"working_days=.*write e\.g\. 'Mon-Fri' or 'Mon,Tue,Sat'"):
        WorkingHours.parse("UTC", "09:00-17:00", text)


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", " Asia/Tokyo "])
def test_iana_time_zones_are_accepted(name):
    assert WorkingHours.parse(name).time_zone == name.strip()


def test_an_unknown_time_zone_is_refused_with_close_names():
    with pytest.raises(WorkingHoursError, match=r"time_zone='Europe/Berlln' is not an IANA time zone"):
        WorkingHours.parse("Europe/Berlln")
    with pytest.raises(WorkingHoursError, match=r"did you mean Europe/Berlin") as raised:
        WorkingHours.parse("europe/berlin")
    assert "'UTC' or 'Europe/Berlin'" in str(raised.value)


@pytest.mark.parametrize("name", ["", "Mars/Olympus_Mons", "+02:00", "../etc/passwd", "UTC'; drop table x; --", "CET'"])
def test_what_is_not_a_zone_is_refused(name):
    with pytest.raises(WorkingHoursError, match="is not an IANA time zone"):
        WorkingHours.parse(name)


def test_the_error_is_an_option_error_so_the_task_fails_at_once():
    assert issubclass(WorkingHoursError, OptionError)
