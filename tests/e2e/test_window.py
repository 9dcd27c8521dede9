"""In a real browser: the window takes a 联办件 and a 上报件 from intake to 送达.

Every step is done by the demo user the diagram routes it to, from their own
worklist, on the task page, as they would click it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.cases import Case

from ..conftest import DEMO_PASSWORD
from .conftest import login

# pages in a browser, the same on both databases: run with SQLite (the flows' own tests
# run on both)
pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

ID_NUMBER = "11010519491231002X"
PLACE = "青山县 / 城关街道 / 东河社区"  # a place is named by its path from the county down


def intake(page, base: str, item_label: str, place: str, fields: dict[str, str]) -> str:
    """Fill the 受理台 for a person applying, with every material; returns the case number."""
    page.goto(f"{base}/cases/intake")
    with page.expect_navigation():
        page.select_option("#pick-item", label=item_label)
    page.get_by_label("申请人（姓名或单位名称）").fill("周建华")
    page.get_by_label("身份证号 / 统一社会信用代码").fill(ID_NUMBER)
    page.get_by_label("联系电话").first.fill("13900000000")
    page.select_option("#place", label=place)
    for box in page.locator("input[name=materials]").all():
        box.check()
    for selector, value in fields.items():
        if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click("button:has-text('受理并出具受理通知书')")
    page.wait_for_url(re.compile(r"/cases/\d{19}$"))
    flash = page.locator(".alert-success").inner_text()
    assert "查询密码" in flash
    number = page.inner_text("#case-number")
    assert number in flash
    assert page.inner_text("#case-status") == "受理"
    return number


def work(new_page, base: str, username: str, number: str, step: str, fill) -> None:
    """``username`` finds the case in their worklist, opens ``step`` and submits it."""
    page = new_page()
    login(page, base, username, DEMO_PASSWORD)
    page.goto(f"{base}/desk/")
    row = page.locator("#worklist tbody tr", has_text=number)
    assert row.count() == 1, (username, page.inner_text("#worklist"))
    row.get_by_role("link", name=step).click()
    assert number in page.inner_text("#case-summary")
    page.wait_for_selector("#task-diagram .case-diagram[data-ready='1']")
    assert page.locator("#task-diagram .step-active, #task-diagram .step-overdue").count() >= 1
    assert "✓" in page.inner_text("#task-materials")
    fill(page)
    page.click("#task-form button:has-text('提交')")
    page.wait_for_url(re.compile(r"/desk/$"))
    assert f"已办理：{step}" in page.content(), page.content()[:3000]
    assert page.locator("#worklist tbody tr", has_text=number).count() == 0
    page.context.close()


def decide(label: str, opinion: str, **more: str):
    def fill(page):
        page.get_by_label(label, exact=True).check()
        page.fill("#opinion", opinion)
        for selector, value in more.items():
            page.fill(f"#{selector}", value)

    return fill


def case_of(session, number: str) -> Case:
    session.expire_all()
    return session.scalars(select(Case).where(Case.number == number)).one()


def test_joint_review_from_intake_to_delivery(shipped, session, live_server, new_page):
    clerk = new_page()
    login(clerk, live_server, "center_clerk", DEMO_PASSWORD)
    number = intake(
        clerk,
        live_server,
        "[联办件] 公众聚集场所开业联合审查（SCJ-GZJJCS-LHSC）",
        PLACE,
        {"#f_business_address": "城关街道解放路 18 号"},
    )
    assert re.fullmatch(r"490102\d{8}\d{5}", number)
    promised = clerk.inner_text("#promised-date")
    notice = clerk.locator("#case-documents li", has_text="受理通知书").get_by_role(
        "link", name="打印"
    )
    clerk.goto(live_server + notice.get_attribute("href"))
    y, m, d = (int(part) for part in promised.split("-"))
    assert f"承诺办结时间：{y}年{m}月{d}日前" in clerk.inner_text("body")
    clerk.go_back()

    # 抄告相关、同步审批: three departments at once, each from its own worklist
    for username, step in (
        ("xf_reviewer", "消防审查"),
        ("sthj_reviewer", "环保审查"),
        ("wjw_reviewer", "卫健审查"),
    ):
        work(new_page, live_server, username, number, step, decide("同意", f"{step}通过。"))
    assert case_of(session, number).status == "processing"
    work(
        new_page,
        live_server,
        "scj_reviewer",
        number,
        "牵头部门汇总",
        decide("同意，报分管领导签批", "三部门均同意。"),
    )
    work(
        new_page,
        live_server,
        "scj_deputy",
        number,
        "分管领导签批",
        decide("准予许可", "同意开业。", sign_date="2026-11-27"),
    )

    clerk.reload()
    assert clerk.inner_text("#case-status") == "办结"
    history = clerk.inner_text("#case-history")
    for words in (
        "消防审查通过。",
        "环保审查通过。",
        "卫健审查通过。",
        "三部门均同意。",
        "准予许可",
    ):
        assert words in history
    clerk.fill("input[name=receiver]", "周建华")
    clerk.click("button:has-text('送达并出具送达回证')")
    assert clerk.inner_text("#case-status") == "送达"
    documents = clerk.inner_text("#case-documents")
    for title in ("申请材料接收凭证", "受理通知书", "准予行政许可决定书", "送达回证"):
        assert title in documents
    case = case_of(session, number)
    assert case.promised_date.isoformat() == promised
    assert [d.kind for d in case.documents] == ["receipt", "acceptance", "decision", "delivery"]


def test_reported_item_goes_up_to_the_city_and_back_to_the_village(
    shipped, session, live_server, new_page
):
    clerk = new_page()
    login(clerk, live_server, "v0101_clerk", DEMO_PASSWORD)
    clerk.goto(f"{live_server}/cases/intake")
    clerk.select_option("#pick-item", label="[上报件] 矿产品加工资格证核发（ZRZY-KCPJG-HF）")
    clerk.wait_for_selector("#intake-form")
    places = clerk.locator("#place option").all_inner_texts()
    assert places == ["请选择……", PLACE]  # a village window receives for its own village
    number = intake(
        clerk,
        live_server,
        "[上报件] 矿产品加工资格证核发（ZRZY-KCPJG-HF）",
        PLACE,
        {
            "#f_company_name": "青山县白沙石料厂",
            "#f_product_type": "building_stone",
            "#f_plant_address": "东河社区北岭",
        },
    )
    # 纵: village → township → county → city, each level from its own worklist
    work(
        new_page,
        live_server,
        "t01_reviewer",
        number,
        "乡镇初审",
        decide("同意，报县级审查", "选址合理。"),
    )
    work(
        new_page,
        live_server,
        "zrzy_kc_reviewer",
        number,
        "县级审查",
        decide("同意，报市级审批", "符合产业规划。"),
    )
    work(
        new_page,
        live_server,
        "city_zrzy_kc_reviewer",
        number,
        "市级审批",
        decide("准予许可", "准予。", certificate_no="PA-KCJG-2026-0007"),
    )
    assert case_of(session, number).status == "decided"
    clerk.goto(f"{live_server}/cases/{number}")
    assert clerk.inner_text("#case-status") == "办结"
    assert "送达步骤" in clerk.inner_text("#delivery-step")  # not delivered twice
    assert clerk.locator("button:has-text('送达并出具送达回证')").count() == 0

    # and back down to the village agency point, which delivers
    def delivered(page):
        assert "PA-KCJG-2026-0007" in page.inner_text("[data-field=result_text]")
        page.fill("#delivered_on", "2026-12-01")
        page.fill("#receiver_name", "周建华")

    work(new_page, live_server, "v0101_clerk", number, "结果送达", delivered)
    clerk.goto(f"{live_server}/cases/{number}")
    assert clerk.inner_text("#case-status") == "送达"
    history = clerk.inner_text("#case-history")
    for words in ("选址合理。", "符合产业规划。", "准予。"):
        assert words in history
    assert "送达回证" in clerk.inner_text("#case-documents")
    # the township reviewer cannot open a case of another township
    other = new_page()
    login(other, live_server, "t02_reviewer", DEMO_PASSWORD)
    assert other.goto(f"{live_server}/cases/{number}").status == 403


def test_the_case_diagram_marks_done_active_and_overdue_steps(
    app, shipped, session, live_server, new_page
):
    from datetime import timedelta

    from workflows import models as wm

    clerk = new_page()
    login(clerk, live_server, "center_clerk", DEMO_PASSWORD)
    number = intake(
        clerk,
        live_server,
        "[联办件] 公众聚集场所开业联合审查（SCJ-GZJJCS-LHSC）",
        PLACE,
        {"#f_business_address": "城关街道解放路 18 号"},
    )
    work(new_page, live_server, "xf_reviewer", number, "消防审查", decide("同意", "同意。"))
    case = case_of(session, number)
    # the environment review is past its 5 working days
    env = session.scalars(
        select(wm.WorkItem).where(
            wm.WorkItem.instance_id == case.instance_id,
            wm.WorkItem.bpmn_id == "Task_DeptReview_Env",
        )
    ).one()
    env.due_at -= timedelta(days=30)
    session.commit()
    inspector = new_page()
    login(inspector, live_server, "center_inspector", DEMO_PASSWORD)
    inspector.goto(f"{live_server}/cases/{number}")
    inspector.click("a:has-text('流程图')")
    inspector.wait_for_selector("#canvas[data-ready='1']")
    marked = inspector.evaluate(
        """() => Object.fromEntries(['done', 'active', 'overdue'].map(kind =>
             [kind, [...document.querySelectorAll('.step-' + kind)].map(e => e.dataset.elementId).sort()]))"""
    )
    assert "Task_DeptReview_Fire" in marked["done"] and "Task_Accept" in marked["done"]
    assert marked["active"] == ["Task_DeptReview_Health"]
    assert marked["overdue"] == ["Task_DeptReview_Env"]
    assert inspector.locator(".spent-badge").count() >= 3
    assert "超期" in inspector.inner_text("#step-times tr[data-step='Task_DeptReview_Env']")
