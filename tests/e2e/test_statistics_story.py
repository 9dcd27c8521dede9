"""A center leader in a real browser: the statistics of the hand-counted month filtered
by township, the bottleneck heatmap on the food workshop's diagram (a click on a step),
the Excel download and the monthly PDF, every number as a person counts it."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from app.models.items import Item

from ..conftest import DEMO_PASSWORD
from ..statistics.month import march  # noqa: F401 (the fixture)
from ..statistics.test_bottlenecks import food_steps
from .conftest import login
from .test_stories import SIZES, read

pytestmark = pytest.mark.e2e
# the leader's screen per database run
SCREEN = {"sqlite": "phone", "postgresql": "laptop"}


@pytest.mark.slow
@pytest.mark.usefixtures("march")
def test_a_leader_reads_the_month_the_heatmap_and_downloads_both_files(
    app, session, live_server, browser, request
):
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    food_steps(session, food)
    viewport, phone = SIZES[SCREEN[request.node.callspec.params["database_url"]]]
    context = browser.new_context(
        locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone, accept_downloads=True
    )
    context.set_default_timeout(20000)
    page = context.new_page()
    try:
        login(page, live_server, "center_chief", DEMO_PASSWORD)
        page.goto(f"{live_server}/statistics/")
        page.select_option("#period", "month")
        page.fill("#day", "2026-03-15")
        page.select_option("#region", label="城关街道")
        page.click("#statistics-filters button[type=submit]")
        page.wait_for_load_state("load")
        read(page, "统计分析")
        assert page.inner_text("#period-label") == "2026年03月01日—2026年03月31日"
        shown = {
            key: page.inner_text(f'[data-total="{key}"]')
            for key in ("received", "accepted", "decided", "on_time_rate", "early_rate")
        }
        # the other township's 即办件 is out: 9 received, 7 accepted, 6 decided, 5 on time
        assert shown == {
            "received": "9", "accepted": "7", "decided": "6",
            "on_time_rate": "83.33%", "early_rate": "33.33%",
        }  # fmt: skip
        page.wait_for_function("document.querySelector('#trend-chart canvas, #trend-chart svg')")

        with page.expect_download() as waiting:
            page.click("#export")
        assert waiting.value.suggested_filename.endswith(".xlsx")
        book = load_workbook(io.BytesIO(waiting.value.path().read_bytes()), read_only=True)
        total = list(book["总量"].iter_rows(values_only=True))[2]
        assert total[1:3] == (9, 7) and total[6] == 6 and total[11:] == ("83.33%", "33.33%")

        pdf = page.request.get(live_server + page.get_attribute("#monthly-report", "href"))
        text = re.sub(
            r"\s", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
        )
        assert "政务服务月度统计报告（2026年3月）" in text and "83.33%" in text

        page.click("#statistics-nav a:has-text('环节瓶颈')")
        page.wait_for_load_state("load")
        page.select_option("#item", label="食品小作坊登记")
        page.select_option("#period", "month")
        page.fill("#day", "2026-03-15")
        page.click("#bottleneck-filters button[type=submit]")
        page.wait_for_selector('.heat-diagram[data-ready="1"]')
        read(page, "环节瓶颈")
        assert page.locator(".heat-4").count() >= 1  # 承办, the slowest step
        page.locator('[data-element-id="Task_Handle"]').first.click()
        page.wait_for_selector('#step-detail[data-step="Task_Handle"]')
        detail = page.inner_text("#step-detail")
        assert "承办" in detail and "用时中位数：6 小时" in detail and "90分位：54.5 小时" in detail
    finally:
        context.close()
