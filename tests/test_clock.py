"""The center's clock (app/clock.py): local days, office hours, and the moments tests run at."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.clock import CenterClock, center_clock

from .conftest import BEIJING, MOMENTS

CLOCK = CenterClock(zone=ZoneInfo("Asia/Shanghai"), office_hours_end=time(17, 30))


def stored(local: datetime) -> datetime:
    """A Beijing time (naive meaning wall-clock) as the naive UTC the platform stores."""
    aware = local if local.tzinfo is not None else local.replace(tzinfo=BEIJING)
    return aware.astimezone(UTC).replace(tzinfo=None)


def test_a_pause_from_seven_to_nine_in_the_morning_spans_no_working_day():
    # 07:00 Beijing is 23:00 UTC the day before: counted in UTC dates it would span one day
    started, ended = stored(datetime(2026, 11, 24, 7, 0)), stored(datetime(2026, 11, 24, 9, 0))
    assert started.date() == date(2026, 11, 23)
    assert CLOCK.workdays_spanned(started, ended) == 0
    assert CLOCK.workdays_used(started, ended) == 0
    # from Monday 07:00 to Tuesday 07:00 is one working day
    assert CLOCK.workdays_spanned(stored(datetime(2026, 11, 23, 7)), started) == 1


def test_the_clock_of_a_case_accepted_after_17_30_on_friday_starts_on_monday():
    before = stored(datetime(2026, 11, 27, 17, 29))
    after = stored(datetime(2026, 11, 27, 17, 31))
    assert CLOCK.first_working_day(before) == date(2026, 11, 27)
    assert CLOCK.first_working_day(after) == date(2026, 11, 30)
    assert CLOCK.promised_date(before, 0) == date(2026, 11, 27)  # 即办件: that very day
    assert CLOCK.promised_date(after, 0) == date(2026, 11, 30)
    assert CLOCK.promised_date(before, 5) == date(2026, 12, 4)
    assert CLOCK.promised_date(after, 5) == date(2026, 12, 7)
    # the answer deadline counts from the day the application came in, whatever the hour
    assert CLOCK.decision_due(before) == CLOCK.decision_due(after) == date(2026, 12, 4)


def test_a_day_received_is_the_local_day_not_the_utc_one():
    monday_early = stored(datetime(2026, 11, 30, 7, 50))  # Sunday 23:50 UTC
    assert CLOCK.day_of(monday_early) == date(2026, 11, 30)
    assert CLOCK.decision_due(monday_early) == date(2026, 12, 7)
    assert CLOCK.promised_date(monday_early, 0) == date(2026, 11, 30)
    assert CLOCK.at(monday_early).today() == date(2026, 11, 30)
    assert CLOCK.start_of_day(date(2026, 11, 30)) == datetime(2026, 11, 29, 16, 0)
    assert CLOCK.end_of_day(date(2026, 11, 30)) == datetime(2026, 11, 30, 15, 59, 59)


def test_a_year_the_package_does_not_know_counts_weekends_only():
    monday = stored(datetime(2027, 1, 4, 10, 0))
    assert not CLOCK.calendar.known(2027)
    assert CLOCK.promised_date(monday, 5) == date(2027, 1, 11)
    assert CLOCK.decision_due(stored(datetime(2026, 12, 31, 10))) == date(2027, 1, 7)
    assert CLOCK.step_due(monday, days=1) == stored(datetime(2027, 1, 5, 23, 59, 59))
    friday = stored(datetime(2027, 1, 8, 20, 0))
    assert CLOCK.step_due(friday, hours=8) == stored(datetime(2027, 1, 11, 4, 0))
    assert CLOCK.workdays_left(date(2027, 1, 11), monday) == 5


@pytest.mark.moments
def test_a_moment_is_entered_before_the_county_is_built(app, county, moment):
    """The fixture order the moments rely on: rows are stored at the moment, not today."""
    created = county.users["center_window_clerk"].created_at
    assert abs(created - stored(moment)) < timedelta(minutes=1)
    with app.app_context():
        assert center_clock().today() == moment.date()


@pytest.mark.moments
def test_every_moment_is_a_local_moment_in_the_centers_zone(moment):
    assert moment in MOMENTS.values() and moment.tzinfo is BEIJING
    assert CLOCK.day_of(CLOCK.now()) == moment.date()
