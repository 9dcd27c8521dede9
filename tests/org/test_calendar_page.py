"""The administrator keeps the working-day calendar; deadlines follow at once."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.org.calendar import CalendarInputError, official_runs, parse_lines
from workflows.calendar import load_calendar
from workflows.models import CalendarDay

from ..conftest import BEIJING, make_user, signed_in
from .conftest import csrf_token

HOLIDAYS_2027 = "2027-01-01 休 元旦\n2027-02-08 休 春节\n2027-02-06 班 春节调休\n"


def test_lines_are_read_all_or_nothing():
    assert parse_lines(HOLIDAYS_2027)[2] == (date(2027, 2, 6), True, "春节调休")
    for bad, line in (("2027-02-30 休", 1), ("2027-01-01 休\n2027-1-2 放假", 2), ("", 1)):
        try:
            parse_lines(bad)
        except CalendarInputError as exc:
            assert exc.line == line and f"第 {line} 行" in exc.message
        else:
            raise AssertionError(bad)


def test_official_runs_show_national_day_and_the_makeup_saturday():
    runs = official_runs(2026)
    national = [r for r in runs if r["name"] == "国庆节"]
    assert {(r["start"], r["end"], r["workday"]) for r in national} >= {
        (date(2026, 10, 1), date(2026, 10, 7), False),
        (date(2026, 10, 10), date(2026, 10, 10), True),
    }


def test_the_admin_enters_next_years_holidays_and_the_warning_goes(app, session, admin):
    client = admin
    page = client.get("/org/calendar?year=2027")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="unknown-2027"' in html and "暂按周末计算" in html

    bad = client.post(
        "/org/calendar",
        data={"csrf_token": csrf_token(html), "year": "2027", "lines": "2027-01-01 休\n明天 休"},
    )
    assert bad.status_code == 400
    assert "第 2 行格式不对" in bad.get_data(as_text=True)
    assert "明天 休" in bad.get_data(as_text=True)  # what was typed is kept
    assert session.scalars(select(CalendarDay)).all() == []

    before = load_calendar(session).add_workdays(date(2026, 12, 31), 1)
    assert before == date(2027, 1, 1)
    saved = client.post(
        "/org/calendar",
        data={"csrf_token": csrf_token(html), "year": "2027", "lines": HOLIDAYS_2027},
    )
    assert saved.status_code == 302
    html = client.get("/org/calendar?year=2027").get_data(as_text=True)
    assert 'id="unknown-2027"' not in html and 'data-day="2027-02-06"' in html
    calendar = load_calendar(session)
    assert calendar.known(2027)
    assert calendar.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert calendar.is_workday(date(2027, 2, 6))  # a Saturday made a working day

    removed = client.post("/org/calendar/2027-02-06/delete", data={"csrf_token": csrf_token(html)})
    assert removed.status_code == 302
    assert not load_calendar(session).is_workday(date(2027, 2, 6))

    make_user(app, "cal_clerk", password="pw-cal_clerk")
    assert signed_in(app, "cal_clerk").get("/org/calendar").status_code == 403


@pytest.mark.moments("tue-0930", "2027-0104", datetime(2027, 1, 1, 7, 0, tzinfo=BEIJING))
def test_the_calendar_opens_on_the_centers_year_and_warns_of_years_not_entered(admin, moment):
    html = admin.get("/org/calendar").get_data(as_text=True)
    this = moment.year  # on New Year's morning in Beijing it is still the old year in UTC
    assert re.search(rf'btn-primary[^"]*" href="/org/calendar\?year={this}"', html)
    shown = [int(y) for y in re.findall(r'id="unknown-(\d{4})"', html)]
    assert shown == [y for y in (this, this + 1) if y >= 2027]
