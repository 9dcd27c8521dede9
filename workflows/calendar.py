"""Working days on the official Chinese calendar, with administrator overrides.

The calendar package knows the State Council's holidays and make-up working
days (调休) for the years it was released for; for later years it raises
NotImplementedError. Then weekends count as rest days and whatever the
administrator entered overrides that, and ``known`` says the year still needs
its holidays entered. Overrides always win.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import chinese_calendar
from sqlalchemy import func, select

from .models import CalendarDay

MAX_SPAN_DAYS = 3 * 366  # no limit in working days spans more than this


@dataclass(frozen=True)
class WorkCalendar:
    """Working-day arithmetic; ``overrides`` maps a date to True (working) or False (rest)."""

    overrides: dict[date, bool] = field(default_factory=dict)

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def known(self, year: int) -> bool:
        """Whether the year's holidays are known (built in, or entered by an administrator)."""
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
            return True
        except NotImplementedError:
            return any(
                d.year == year and not w and d.weekday() < 5 for d, w in self.overrides.items()
            )

    def add_workdays(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (counting begins the next day)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current, counted = start, 0
        for _ in range(MAX_SPAN_DAYS):
            if counted == days:
                return current
            current += timedelta(days=1)
            if self.is_workday(current):
                counted += 1
        raise ValueError(f"{days} working days after {start} is beyond {MAX_SPAN_DAYS} days")

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
        if end < start:
            return -self.workdays_between(end, start)
        return sum(
            1
            for n in range(1, (end - start).days + 1)
            if self.is_workday(start + timedelta(days=n))
        )

    def next_workday(self, moment: datetime | date) -> date:
        """The working day a thing received at ``moment`` is handled on (itself if a working day)."""
        day = moment.date() if isinstance(moment, datetime) else moment
        return day if self.is_workday(day) else self.add_workdays(day, 1)

    def add_working_hours(self, start: datetime, hours: float, zone: tzinfo) -> datetime:
        """``start`` plus ``hours`` counted on working days only (naive UTC in and out;
        days are the local days of ``zone``)."""
        moment = _local(start, zone)
        remaining = timedelta(hours=hours)
        for _ in range(MAX_SPAN_DAYS):
            next_midnight = _next_midnight(moment, zone)
            if self.is_workday(moment.date()):
                span = next_midnight - moment
                if remaining <= span:
                    moment = moment + remaining
                    break
                remaining -= span
            moment = next_midnight
        return _naive_utc(moment)

    def working_hours_between(self, start: datetime, end: datetime, zone: tzinfo) -> float:
        """Hours of working days between two naive UTC moments (negative if end < start)."""
        if end < start:
            return -self.working_hours_between(end, start, zone)
        moment, stop = _local(start, zone), _local(end, zone)
        total = timedelta(0)
        while moment < stop:
            next_midnight = _next_midnight(moment, zone)
            if self.is_workday(moment.date()):
                total += min(next_midnight, stop) - moment
            moment = next_midnight
        return total.total_seconds() / 3600


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _next_midnight(moment: datetime, zone: tzinfo) -> datetime:
    return datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo=zone)


_CACHE: dict[str, object] = {"key": None, "calendar": WorkCalendar()}
_LOCK = threading.Lock()


def load_calendar(session) -> WorkCalendar:
    """The calendar with the administrator's overrides (re-read only when they change)."""
    key = tuple(session.execute(select(func.count(), func.max(CalendarDay.updated_at))).one())
    with _LOCK:
        if _CACHE["key"] == key:
            return _CACHE["calendar"]
    rows = session.execute(select(CalendarDay.day, CalendarDay.workday)).all()
    calendar = WorkCalendar({day: workday for day, workday in rows})
    with _LOCK:
        _CACHE.update(key=key, calendar=calendar)
    return calendar
