"""工作日历: the official holidays the platform knows, and the administrator's overrides.

Deadlines count working days. The calendar package knows the State Council's
holidays up to its release year; later years count weekends only until an
administrator enters that year's 放假和调休 here — the page says so.
"""

from __future__ import annotations

import re
from datetime import date

import chinese_calendar
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import delete, select

from app.clock import center_clock
from app.errors import BadRequest, DomainError
from app.extensions import db
from app.policy import requires
from workflows.calendar import load_calendar
from workflows.models import CalendarDay
from workflows.timeutil import utcnow

MANAGE = "org.manage"
HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
WEEKDAY_ZH = "一二三四五六日"
LINE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\s+(休|班)(?:\s+(.*))?$")
REST, WORK = "休", "班"


class CalendarInputError(DomainError):
    """A line of the bulk form that cannot be read; ``line`` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


def parse_lines(text: str) -> list[tuple[date, bool, str | None]]:
    """``2027-01-01 休 元旦`` per line → (day, is_workday, note); all lines or none."""
    days: dict[date, tuple[date, bool, str | None]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = LINE.match(line)
        if match is None:
            raise CalendarInputError(
                number,
                f"第 {number} 行格式不对：应为“2027-01-01 休 元旦”或“2027-02-07 班 春节调休”。",
            )
        year, month, day, kind, note = match.groups()
        try:
            when = date(int(year), int(month), int(day))
        except ValueError:
            raise CalendarInputError(number, f"第 {number} 行的日期 {year}-{month}-{day} 不存在。")
        if when in days:
            raise CalendarInputError(number, f"第 {number} 行的日期 {when} 重复。")
        note = (note or "").strip()[:120] or None
        days[when] = (when, kind == WORK, note)
    if not days:
        raise CalendarInputError(1, "第 1 行：请至少输入一个日期。")
    return list(days.values())


def save_days(session, rows, actor: str) -> None:
    now = utcnow()
    for day, workday, note in rows:
        existing = session.get(CalendarDay, day)
        if existing is None:
            session.add(
                CalendarDay(day=day, workday=workday, note=note, set_by=actor, updated_at=now)
            )
        else:
            existing.workday, existing.note, existing.set_by, existing.updated_at = (
                workday, note, actor, now,
            )  # fmt: skip


def official_runs(year: int) -> list[dict]:
    """The package's holidays and make-up working days of ``year``, as runs of dates."""
    runs: list[dict] = []
    for day, name in sorted(
        [(d, n) for d, n in chinese_calendar.holidays.items() if d.year == year and d.weekday() < 5]
        + [
            (d, n)
            for d, n in chinese_calendar.workdays.items()
            if d.year == year and d.weekday() >= 5
        ]
    ):
        workday = day in chinese_calendar.workdays
        label = HOLIDAY_ZH.get(name, name)
        last = runs[-1] if runs else None
        if (
            last
            and last["workday"] == workday
            and last["name"] == label
            and (day - last["end"]).days <= 3
        ):
            last["end"] = day
        else:
            runs.append({"start": day, "end": day, "name": label, "workday": workday})
    return runs


def _this_year() -> int:
    """The center's current year (its local day: New Year's morning is not last year)."""
    return center_clock().today().year


def _years() -> list[int]:
    this = _this_year()
    return [this - 1, this, this + 1]


def _page(year: int, text: str = "", status: int = 200):
    calendar = load_calendar(db.session)
    overrides = db.session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    ).all()
    return render_template(
        "org/calendar.html",
        year=year,
        years=sorted({*_years(), year}),
        unknown=[y for y in _years()[1:] if not calendar.known(y)],
        year_known=calendar.known(year),
        official=official_runs(year),
        overrides=overrides,
        weekday_zh=WEEKDAY_ZH,
        text=text,
    ), status


# the years a calendar page can show (date() knows 1..9999; the official calendar far less)
FIRST_YEAR, LAST_YEAR = 1949, 2100


def _year(value: int | None) -> int:
    if not value:
        return _this_year()
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise BadRequest(f"年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间。", field="year")
    return value


@requires(MANAGE)
def index():
    return _page(_year(request.args.get("year", type=int)))


@requires(MANAGE)
def enter():
    text = request.form.get("lines", "")
    try:
        rows = parse_lines(text)
    except CalendarInputError as exc:
        flash(exc.message, "danger")
        year = _year(request.form.get("year", type=int))
        return _page(year, text, 400)
    save_days(db.session, rows, current_user.username)
    db.session.commit()
    flash(f"已保存 {len(rows)} 个日期。", "success")
    return redirect(url_for("org.calendar", year=rows[0][0].year))


@requires(MANAGE)
def remove(day: str):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return redirect(url_for("org.calendar"))
    db.session.execute(delete(CalendarDay).where(CalendarDay.day == when))
    db.session.commit()
    flash(f"已删除 {when} 的设置，恢复按官方日历（或周末）计算。", "success")
    return redirect(url_for("org.calendar", year=when.year))
