"""The center's clock: its time zone, office hours, working-day calendar and "now".

Moments are stored as naive UTC (``workflows.timeutil``); the days people count
are the center's local days. Every deadline of the platform is computed here:
a case's promised date and answer deadline, a step's due time, how many working
days are used or left, how long a pause lasted. Each derives from the moment
stored on the row it belongs to (a case's ``accepted_at``, a step's
``created_at``, a pause's ``started_at``/``ended_at``), never from a second
reading of the clock. Pure working-day arithmetic lives in
``workflows.calendar``; templates only format what this module computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from flask import current_app

from app.extensions import db
from workflows.calendar import WorkCalendar, load_calendar
from workflows.timeutil import utcnow

# Administrative Licensing Law Art. 32: answer an application within 5 working days.
DECISION_WORKDAYS = 5
DEFAULT_ZONE = "Asia/Shanghai"
DEFAULT_OFFICE_HOURS_END = "17:30"


@dataclass(frozen=True)
class CenterClock:
    """Time as the center counts it; build one with ``center_clock(session)``."""

    zone: ZoneInfo
    office_hours_end: time
    load: Callable[[], WorkCalendar] = WorkCalendar  # the calendar, read when first needed
    now: Callable[[], datetime] = utcnow  # naive UTC

    @cached_property
    def calendar(self) -> WorkCalendar:
        return self.load()

    def at(self, moment: datetime | None) -> CenterClock:
        """This clock standing still at ``moment`` (naive UTC); itself when None."""
        return self if moment is None else replace(self, now=lambda: moment)

    # --- moments and local days --------------------------------------------------

    def to_local(self, moment: datetime) -> datetime:
        """A stored (naive UTC) moment as the center's local, aware time."""
        return moment.replace(tzinfo=UTC).astimezone(self.zone)

    def from_local(self, moment: datetime) -> datetime:
        """A local moment (aware, or naive meaning local) as naive UTC."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC).replace(tzinfo=None)

    def day_of(self, moment: datetime) -> date:
        """The local day a stored moment falls on."""
        return self.to_local(moment).date()

    def today(self) -> date:
        return self.day_of(self.now())

    def start_of_day(self, day: date) -> datetime:
        """Local midnight of ``day``, as naive UTC (for filters on stored moments)."""
        return self.from_local(datetime.combine(day, time(0), tzinfo=self.zone))

    def end_of_day(self, day: date) -> datetime:
        """The last second of a local day, as naive UTC (how due times are stored)."""
        return self.from_local(datetime.combine(day, time(23, 59, 59), tzinfo=self.zone))

    # --- working days ---------------------------------------------------------------

    def first_working_day(self, moment: datetime) -> date:
        """The working day something received at ``moment`` is handled on: its local day,
        or the next one when received after office hours, then the next working day."""
        local = self.to_local(moment)
        day = local.date()
        if local.time() >= self.office_hours_end:
            day += timedelta(days=1)
        return self.calendar.next_workday(day)

    def promised_date(self, accepted: datetime, committed_days: int) -> date:
        """The promised date: the committed limit in working days after acceptance.

        即办件 (limit 0) are due the working day they are handled on.
        """
        start = self.first_working_day(accepted)
        return self.calendar.add_workdays(start, committed_days) if committed_days else start

    def decision_due(self, received: datetime) -> date:
        """The last day to answer an application (受理, 补正 or 不予受理) received then."""
        return self.calendar.add_workdays(self.day_of(received), DECISION_WORKDAYS)

    def step_due(
        self, opened: datetime, *, days: int | None = None, hours: float | None = None
    ) -> datetime | None:
        """When a step opened at ``opened`` is due: ``hours`` counted on working days
        only, or the end of the ``days``-th working day from the day it arrived."""
        if hours is not None:
            return self.calendar.add_working_hours(opened, hours, self.zone) if hours > 0 else None
        if days is None or days < 0:
            return None
        start = self.calendar.next_workday(self.day_of(opened))
        return self.end_of_day(self.calendar.add_workdays(start, days) if days else start)

    def workdays_left(self, due: date | datetime, moment: datetime | None = None) -> int:
        """Working days from ``moment`` (now) to a due day; negative once overdue."""
        day = self.day_of(due) if isinstance(due, datetime) else due
        return self.calendar.workdays_between(self.day_of(moment or self.now()), day)

    def workdays_used(self, since: datetime, moment: datetime | None = None) -> int:
        """Working days from a stored moment to ``moment`` (now); 0 on its own day."""
        return max(
            0, self.calendar.workdays_between(self.day_of(since), self.day_of(moment or self.now()))
        )

    def workdays_spanned(self, start: datetime, end: datetime) -> int:
        """Working days a period between two stored moments covers (a pause), local days."""
        return max(0, self.calendar.workdays_between(self.day_of(start), self.day_of(end)))

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        return self.calendar.working_hours_between(start, end, self.zone)

    def add_workdays(self, day: date, days: int) -> date:
        return self.calendar.add_workdays(day, days)


def center_clock(session=None) -> CenterClock:
    """The center's clock from the configuration; its calendar (with the administrator's
    current overrides) is read from ``session`` (the request's) when first needed."""
    config = current_app.config
    return CenterClock(
        zone=ZoneInfo(config.get("TIMEZONE") or DEFAULT_ZONE),
        office_hours_end=time.fromisoformat(
            config.get("OFFICE_HOURS_END") or DEFAULT_OFFICE_HOURS_END
        ),
        load=lambda: load_calendar(session if session is not None else db.session),
    )
