"""Each role's main story in a real browser, on a phone (390×844) in the SQLite run and
a laptop (1366×768) in the PostgreSQL run, with every page read for English words, internal ids and raw JSON.

One 户外广告 case goes the whole way: the window issues 补正 at 收件 without the
item's facts, completes them on the case page, receives the materials and
accepts; the 初审 asks for more material inside the process; the window sees the
list on its task and answers; three departments co-sign, the leader signs, the
window finds the result in 待送达 and delivers it; the inspector reads the board.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.cases import Case, CasePause

from ..conftest import DEMO_PASSWORD
from ..words import foreign_words
from .conftest import login

pytestmark = pytest.mark.e2e

ITEM = "[承诺件] 户外广告设施设置审批（ZJJ-HWGG-SZSP）"
PLACE = "青山县 / 城关街道 / 东河社区"
SIZES = {
    "laptop": ({"width": 1366, "height": 768}, False),
    "phone": ({"width": 390, "height": 844}, True),
}
# One screen per database run: both screens are seen, the story runs twice, not four times.
SIZE_ON = {"sqlite": "phone", "postgresql": "laptop"}


@pytest.fixture
def person(browser):
    """A signed-in page for a demo user, at the test's screen size."""
    contexts = []

    def make(username: str, size: str):
        viewport, phone = SIZES[size]
        context = browser.new_context(
            locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone
        )
        context.set_default_timeout(20000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the confirmations
        login(page, base_url(page), username, DEMO_PASSWORD)
        return page

    yield make
    for context in contexts:
        context.close()


BASE: dict[str, str] = {}


def base_url(_page) -> str:
    return BASE["url"]


def read(page, where: str) -> None:
    """The page in the user's words, and not wider than the screen."""
    page.wait_for_load_state("load")
    words = foreign_words(page.content())
    assert not words, f"{where} ({page.url}):\n" + "\n".join(words[:20])
    wide = page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth + 1")
    assert not wide, f"{where} scrolls sideways at {page.viewport_size}"


def open_step(page, number: str, step: str) -> None:
    """From 待办, the row of the case, its step."""
    page.goto(f"{BASE['url']}/desk/")
    read(page, "待办")
    row = page.locator("#worklist tbody tr", has_text=number)
    assert row.count() == 1, page.inner_text("#worklist")
    row.get_by_role("link", name=step).click()
    page.wait_for_selector("#task-form")
    assert number in page.content()
    read(page, step)


def submit_step(page) -> None:
    page.click("#task-form button:has-text('提交')")
    page.wait_for_url(re.compile(r"/desk/$"))
    assert page.locator(".alert-danger").count() == 0, page.content()[:3000]


def decide(page, label: str, opinion: str) -> None:
    page.locator("#task-form").get_by_label(label, exact=True).check()
    page.fill("#opinion", opinion)


def case_of(session, number: str) -> Case:
    session.expire_all()
    return session.scalars(select(Case).where(Case.number == number)).one()


@pytest.mark.slow
def test_every_role_takes_a_case_through_both_kinds_of_correction(
    shipped, session, live_server, person, request
):
    BASE["url"] = live_server
    size = SIZE_ON[request.node.callspec.params["database_url"]]
    clerk = person("center_clerk", size)

    # 收件 with a material missing and the item's facts not yet asked: 补正 at once
    clerk.goto(f"{live_server}/cases/intake")
    with clerk.expect_navigation():
        clerk.select_option("#pick-item", label=ITEM)
    read(clerk, "受理台")
    clerk.get_by_label("申请人（姓名或单位名称）").fill("周建华")
    clerk.get_by_label("身份证号 / 统一社会信用代码").fill("11010519491231002X")
    clerk.get_by_label("联系电话").first.fill("13900000000")
    clerk.select_option("#place", label=PLACE)
    boxes = clerk.locator("input[name=materials]").all()
    for box in boxes[:-1]:
        box.check()
    clerk.click("button:has-text('出具补正材料通知书')")
    clerk.wait_for_url(re.compile(r"/cases/\d{19}$"))
    number = clerk.inner_text("#case-number")
    assert clerk.inner_text("#case-status") == "补正"
    missing = clerk.inner_text("#application-missing")
    for label in ("设施类型", "设置地点", "广告内容", "申请设置期限至"):
        assert label in missing
    read(clerk, "补正后的办件页面")

    # the window completes the application on the case page, receives, accepts
    form = clerk.locator("#application-edit")
    if not form.is_visible():
        clerk.click("#application summary")
    form.get_by_label("设施类型").select_option(label="墙面广告")
    form.get_by_label("设置地点").fill("城关街道解放路 12 号")
    form.get_by_label("设施宽度（米）").fill("8")
    form.get_by_label("设施高度（米）").fill("2.5")
    form.get_by_label("广告内容").fill("青山县老周豆腐坊")
    form.get_by_label("申请设置期限至").fill("2029-11-30")
    form.locator("button:has-text('保存申请信息')").click()
    clerk.wait_for_load_state("load")
    assert clerk.locator("#application-missing").count() == 0
    assert "城关街道解放路 12 号" in clerk.inner_text("#application")
    read(clerk, "补齐申请信息后")
    received = clerk.locator("form", has_text="接收补正材料")
    for box in received.locator("input[name=materials]").all():
        box.check()
    received.locator("button:has-text('接收补正材料')").click()
    clerk.wait_for_load_state("load")
    clerk.click("button:has-text('受理并出具受理通知书')")
    clerk.wait_for_load_state("load")
    assert clerk.inner_text("#case-status") == "受理"
    read(clerk, "受理后的办件页面")

    # 初审 asks for more material inside the process
    handler = person("zjj_handler", size)
    open_step(handler, number, "初审")
    assert "城关街道解放路 12 号" in handler.inner_text("#task-application")
    decide(handler, "需补正，退回窗口", "缺设施结构安全图")
    handler.fill("#correction_items", "设施结构安全图")
    submit_step(handler)
    case = case_of(session, number)
    pause = session.scalars(select(CasePause).where(CasePause.case_id == case.id)).all()
    assert [p.ended_at for p in pause] == [None]  # the clock stops while the applicant corrects

    # the window sees the list on its task and answers
    open_step(clerk, number, "补正材料接收")
    assert "设施结构安全图" in clerk.inner_text("#correction-notice")
    clerk.fill("#received_materials", "设施结构安全图")
    submit_step(clerk)

    open_step(handler, number, "初审")
    decide(handler, "同意，转相关部门会签", "符合规划")
    submit_step(handler)
    for username in ("scj_reviewer", "ly_reviewer", "zrzy_reviewer"):
        signer = person(username, size)
        open_step(signer, number, "相关部门会签")
        decide(signer, "同意", "同意")
        submit_step(signer)
    leader = person("zjj_deputy", size)
    open_step(leader, number, "分管领导签批")
    decide(leader, "准予设置", "同意设置")
    leader.fill("#certificate_no", "QS-HWGG-2026-001")
    submit_step(leader)
    # approved: the 缴费通知书 is issued and the case waits until the window records the fee
    assert case_of(session, number).status == "processing"
    clerk.goto(f"{live_server}/cases/{number}")
    read(clerk, "等待缴费的办件页面")
    amount = clerk.inner_text("#payments strong").lstrip("¥")
    clerk.fill("#payments input[name=receipt_no]", "QS-SF-0001")
    clerk.fill("#payments input[name=amount]", amount)
    clerk.click("button:has-text('现场缴费')")
    clerk.wait_for_load_state("load")
    assert case_of(session, number).status == "decided"

    # 待送达 at the window that received it; 送达 from the case page
    clerk.goto(f"{live_server}/desk/deliveries")
    read(clerk, "待送达")
    clerk.get_by_role("link", name=number).first.click()
    clerk.wait_for_url(re.compile(rf"/cases/{number}$"))
    read(clerk, "办结的办件页面")
    clerk.click("button:has-text('送达并出具送达回证')")
    clerk.wait_for_load_state("load")
    assert clerk.inner_text("#case-status") == "送达"
    read(clerk, "送达后的办件页面")

    inspector = person("center_inspector", size)
    inspector.goto(f"{live_server}/supervision/")
    read(inspector, "电子监察")
    inspector.goto(f"{live_server}/cases/{number}")
    read(inspector, "监察看办件")
