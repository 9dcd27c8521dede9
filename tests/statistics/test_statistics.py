"""统计分析 against a hand count: a small month of cases built row by row (a pause, 补正,
a refusal, a withdrawal, one late, one open past its date, a decision across the
Spring Festival make-up Saturday), every figure on the page and in the Excel file
compared with the number a person counts; each reader sees their jurisdiction only."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.models.org import Region

from ..conftest import DEMO_PASSWORD, signed_in
from .conftest import TOWN, moment

MONTH = "period=month&day=2026-03-15"

TOTAL = {
    "received": 10, "accepted": 8, "corrected": 1, "refused": 1, "withdrawn": 1,
    "decided": 7, "delivered": 1, "in_progress": 1, "overdue": 1,
    "instant_share": "25.00%", "on_time_rate": "85.71%", "early_rate": "28.57%",
}  # fmt: skip


def totals(html: str) -> dict:
    found = dict(re.findall(r'data-total="(\w+)">([^<]+)<', html))
    return {k: (int(v) if v.isdigit() else v) for k, v in found.items()}


def row(html: str, table: str, label: str) -> dict:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    cells = body.split(f'data-row="{label}"', 1)[1].split("</tr>", 1)[0]
    found = dict(re.findall(r'data-key="(\w+)">([^<]+)<', cells))
    return {k: (int(v) if v.isdigit() else v) for k, v in found.items()}


def test_the_month_matches_the_hand_count(app, march):
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    page = inspector.get(f"/statistics/?{MONTH}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2026年03月01日—2026年03月31日" in html
    assert totals(html) == TOTAL
    food = row(html, "by-item", "食品小作坊登记")
    assert (food["received"], food["accepted"], food["decided"], food["refused"]) == (6, 4, 4, 1)
    assert (food["on_time_rate"], food["early_rate"]) == ("100.00%", "50.00%")
    ad = row(html, "by-item", "户外广告设施设置审批")
    assert (ad["decided"], ad["on_time_rate"], ad["in_progress"], ad["overdue"]) == (
        1, "0.00%", 1, 1,
    )  # fmt: skip
    assert row(html, "by-channel", "网上申请")["withdrawn"] == 1
    # the receiver's window: every case but the online one (received by nobody)
    assert row(html, "by-window", "青山县政务服务中心 综合受理窗口")["received"] == 9
    assert row(html, "by-department", "县住房和城乡建设局")["received"] == 2
    # actual working days: all decided [0, 0, 4, 6, 7, 7, 12]; 食品小作坊 [4, 6, 7, 7]
    limits = html.split('id="limits"', 1)[1].split("</table>", 1)[0]
    food_limits = limits.split('data-row="食品小作坊登记"', 1)[1].split("</tr>", 1)[0]
    assert "15 个工作日" in food_limits and "53.33%" in food_limits  # 15 → 7 days
    assert re.findall(r"(\d+) 个工作日</td>", food_limits)[-2:] == ["6", "7"]
    cards = html.split('id="cards"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-label="(?:黄牌|红牌)">(\d+)<', cards) == ["1", "1"]
    points = html.split('id="points"', 1)[1].split("</table>", 1)[0]
    assert "1.50" in points and "zjj_handler" not in points  # the person's name, not login
    assert "投诉" not in html.split('id="by-item"', 1)[1].split("</table>", 1)[0]

    town = inspector.get(f"/statistics/?{MONTH}&region={region_id(app, TOWN)}")
    assert totals(town.get_data(as_text=True))["received"] == 9  # the other township's case out


def test_the_excel_file_has_the_page_numbers(app, march):
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    response = inspector.get(f"/statistics/export.xlsx?{MONTH}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["总量", "按事项", "按主办部门", "按乡镇（街道）", "按申请渠道", "按受理窗口",
                               "办理时限", "预警", "扣分"]  # fmt: skip
    rows = list(book["总量"].iter_rows(values_only=True))
    assert rows[1][1:] == ("收件", "受理", "补正", "不予受理", "撤件", "办结", "送达", "期末在办",
                           "期末超期", "即办件占比", "按时办结率", "提前办结率")  # fmt: skip
    assert rows[2] == ("合计", 10, 8, 1, 1, 1, 7, 1, 1, 1, "25.00%", "85.71%", "28.57%")
    items = {r[0]: r for r in book["按事项"].iter_rows(values_only=True)}
    assert items["食品小作坊登记"][1:4] == (6, 4, 1)  # G was told to correct
    limits = {r[0]: r for r in book["办理时限"].iter_rows(values_only=True)}
    assert limits["食品小作坊登记"][1:] == (15, 7, "53.33%", 4, 6, 7)
    assert list(book["扣分"].iter_rows(values_only=True))[1][1] == 1.5


def region_id(app, code: str) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalars(select(Region.id).where(Region.code == code)).one()


def test_each_reader_sees_their_jurisdiction_only(app, march):
    # a department's head: the cases their department leads
    zjj = signed_in(app, "zjj_chief", DEMO_PASSWORD).get(f"/statistics/?{MONTH}")
    assert zjj.status_code == 200
    figures = totals(zjj.get_data(as_text=True))
    assert (figures["received"], figures["decided"], figures["overdue"]) == (2, 1, 1)
    # the center's leaders see the whole county like its inspectors
    center = signed_in(app, "center_chief", DEMO_PASSWORD).get(f"/statistics/?{MONTH}")
    assert totals(center.get_data(as_text=True)) == TOTAL
    # handlers and window clerks have no statistics
    for username in ("zjj_handler", "center_clerk"):
        assert signed_in(app, username, DEMO_PASSWORD).get("/statistics/").status_code == 403
    assert app.test_client().get("/statistics/").status_code == 302
    assert app.test_client().get("/statistics/export.xlsx").status_code == 302


def test_bad_filters_fall_back_and_periods_are_counted_right(app, march):
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    week = inspector.get("/statistics/?period=week&day=2026-03-04").get_data(as_text=True)
    assert "2026年03月02日—2026年03月08日" in week
    assert totals(week)["received"] == 5 and totals(week)["decided"] == 2  # 03-03, 03-05
    odd = inspector.get(
        "/statistics/?period=forever&day=not-a-day&region=999999&channel=fax&item=abc"
    )
    assert odd.status_code == 200  # this month, the whole scope
    custom = inspector.get("/statistics/?period=custom&start=2026-03-01&end=2026-03-31")
    assert totals(custom.get_data(as_text=True)) == TOTAL
    quarter = inspector.get("/statistics/?period=quarter&day=2026-02-10").get_data(as_text=True)
    assert "2026年01月01日—2026年03月31日" in quarter and totals(quarter)["received"] == 11


def test_the_monthly_report_is_a_pdf_with_the_figures_and_the_chart(app, march):
    inspector = signed_in(app, "center_inspector", DEMO_PASSWORD)
    page = inspector.get(f"/statistics/?{MONTH}").get_data(as_text=True)
    assert "/statistics/report.pdf?day=2026-03-15" in page
    response = inspector.get("/statistics/report.pdf?day=2026-03-15")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    compact = re.sub(r"\s", "", text)
    assert "政务服务月度统计报告（2026年3月）" in compact
    assert "1081117111" in compact  # 收件 … 期末超期 as in the hand count
    assert "85.71%" in compact and "食品小作坊登记" in compact and "县住房和城乡建设局" in compact
    assert "按时办结率" in compact and "收件办结" in compact.replace("按时办结率", "")  # legend


def test_a_kept_month_gives_the_trend_the_same_numbers_as_the_cases(app, march, tx):
    from app.clock import center_clock
    from app.statistics import facts, services

    with app.app_context():
        scope = services.scope_of(tx, find(tx, "center_inspector"))
        april = services.Filters(date(2026, 4, 1), date(2026, 4, 30))
        live = {label: vars(line) for label, line in facts.trend(tx, scope, april)}
        clock = center_clock(tx)
        assert facts.fill_month(tx, date(2026, 3, 1), clock)
        assert not facts.fill_month(tx, date(2026, 3, 1), clock)  # kept once
        tx.commit()
        kept = {label: vars(line) for label, line in facts.trend(tx, scope, april)}
    assert kept == live
    march_line = kept["2026年3月"]
    assert (march_line["received"], march_line["decided"], march_line["on_time"]) == (10, 7, 6)
    # the scheduler keeps every finished month once, here as if run on 2026-04-02
    with app.app_context():
        filled = facts.fill(tx, center_clock(tx).at(moment(date(2026, 4, 2))))
        tx.commit()
    assert date(2026, 3, 1) not in filled and date(2026, 2, 1) in filled


def find(session, username: str):
    from app.models.auth import User

    return session.scalars(select(User).where(User.username == username)).one()
