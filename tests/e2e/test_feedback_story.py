"""好差评、投诉、办不成事 in a real browser: an applicant rates a finished case 不满意 from
the rating page its notice's QR code opens (on a phone); a visitor complains and
reports what could not be done on the portal; the inspector's board shows the three
apart with their cards once overdue; the center and the departments work each to its
answer from 待办, and the complainant reads the answer with the number and password.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.feedback import CaseRating

from ..conftest import DEMO_PASSWORD
from ..feedback.test_ratings import PASSWORD, finished_case
from ..supervision.test_warnings import CALENDAR, issue, noon_on
from .conftest import login
from .test_stories import BASE, SIZES, case_of, open_step, read, submit_step

pytestmark = pytest.mark.e2e

PHONE = "13612345678"
# the applicant's screen per database run (the staff use the other)
APPLICANT_ON = {"sqlite": "phone", "postgresql": "laptop"}


@pytest.fixture
def pages(browser):
    """One signed-in page per user (or an anonymous one per call), at a screen size."""
    made, signed = [], {}

    def make(size: str, username: str | None = None):
        if username and username in signed:
            return signed[username]
        viewport, phone = SIZES[size]
        context = browser.new_context(
            locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone
        )
        context.set_default_timeout(20000)
        made.append(context)
        page = context.new_page()
        if username:
            login(page, BASE["url"], username, DEMO_PASSWORD)
            signed[username] = page
        return page

    yield make
    for context in made:
        context.close()


def step(page, number: str, name: str, *, choose=(), pick=None, fill=None) -> None:
    """Open ``name`` of the case from 待办, answer it and submit."""
    open_step(page, number, name)
    form = page.locator("#task-form")
    for label in choose:  # radios and check boxes, by their label
        form.get_by_label(label, exact=True).check()
    for field, label in (pick or {}).items():  # selects, by the option's label
        page.select_option(f"#{field}", label=label)
    for field, value in (fill or {}).items():
        page.fill(f"#{field}", value)
    submit_step(page)


def file_voice(page, path: str, fields: dict, choose=()) -> tuple[str, str]:
    page.goto(f"{BASE['url']}{path}")
    read(page, path)
    for label in choose:
        page.locator("#voice-form").get_by_label(label, exact=True).check()
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    page.click("#voice-submit")
    page.wait_for_selector("#voice-filed")
    read(page, "已登记")
    return page.inner_text("#voice-number"), page.inner_text("#voice-password")


@pytest.mark.slow
def test_the_applicants_voice_is_answered_by_three_processes(
    app, shipped, session, live_server, pages, request
):
    BASE["url"] = live_server
    size = APPLICANT_ON[request.node.callspec.params["database_url"]]
    staff = "laptop" if size == "phone" else "phone"
    rated = finished_case(app, session)

    # 好差评: the rating page the 送达回证's code opens, with the query password
    applicant = pages(size)
    applicant.goto(f"{live_server}/rate/{rated}")
    read(applicant, "好差评")
    applicant.fill("#password", PASSWORD)
    applicant.get_by_label("不满意", exact=True).check()
    applicant.locator("label", has_text="等待时间长").click()
    applicant.fill("#comment", "排队两个小时，窗口只开了一个。")
    applicant.click("#rate-submit")
    applicant.wait_for_selector("#rate-done")
    read(applicant, "评价完成")
    assert "差评整改" in applicant.inner_text("#rate-done")
    session.expire_all()
    fix = session.scalars(select(CaseRating)).one().rectification.number

    # 投诉 and 办不成事 from the portal, anonymous
    visitor = pages(size)
    complaint, password = file_voice(
        visitor,
        "/portal/complaints",
        {"phone": PHONE, "subject_name": "3号窗口", "content": "午休时间窗口无人值守。"},
        choose=("窗口",),
    )
    report, _ = file_voice(
        visitor,
        "/portal/cannot-do",
        {"phone": PHONE, "matter": "在老宅开民宿", "content": "住建和消防互相要求先办对方手续。"},
    )

    # nobody has answered by the promised dates: the board's cards
    promised = max(case_of(session, n).promised_date for n in (fix, complaint, report))
    issue(app, noon_on(CALENDAR.add_workdays(promised, 1)))
    inspector = pages(staff, "center_inspector")
    inspector.goto(f"{live_server}/supervision/")
    inspector.select_option("#board-kind", label="监督件（差评整改、投诉、办不成事）")
    inspector.click("#board-filters button")
    inspector.wait_for_load_state("load")
    read(inspector, "电子监察（监督件）")
    for number in (fix, complaint, report):
        row = inspector.locator(f'#cases tr[data-case="{number}"]')
        assert "红牌" in row.inner_text(), number

    # 差评整改: 核实 → 整改 → 回访 (a new grade)
    center, scj = pages(staff, "center_reviewer"), pages(staff, "scj_reviewer")
    step(center, fix, "核实", choose=("属实，交责任部门整改",),
         fill={"opinion": "高峰期只开一个窗口，属实。"})  # fmt: skip
    step(scj, fix, "整改", fill={"measures": "高峰期增开两个窗口，推行预约。"})
    step(center, fix, "回访", choose=("已联系上",), pick={"new_level": "满意"},
         fill={"callback_note": "申请人认可整改。"})  # fmt: skip
    assert case_of(session, fix).status == "delivered"
    session.expire_all()
    assert session.scalars(select(CaseRating)).one().level == "4"

    # 投诉: 分办 → 处理 → 答复 → 回访; the department never sees the phone
    step(center, complaint, "分办", pick={"handling_department": "县市场监督管理局"},
         fill={"opinion": "请市场监管局核查。"})  # fmt: skip
    scj.goto(f"{live_server}/cases/{complaint}")
    assert PHONE[-4:] not in scj.content() and "仅政务服务中心可见" in scj.content()
    step(scj, complaint, "处理", fill={"findings": "午休轮岗未落实，已整改。"})
    step(center, complaint, "答复", fill={"reply": "投诉属实，已落实午休轮岗。"})
    step(center, complaint, "回访", pick={"satisfaction": "满意"}, fill={"callback_note": "满意。"})

    # 办不成事: 登记分办 → 部门会商 (two at once) → 协调决定 → 跟踪回访
    step(center, report, "登记分办", choose=("县住房和城乡建设局", "县消防救援大队"),
         fill={"opinion": "请两部门会商。"})  # fmt: skip
    step(pages(staff, "zjj_reviewer"), report, "部门会商", choose=("补齐条件后可以办理",),
         fill={"opinion": "可并联办理。"})  # fmt: skip
    step(pages(staff, "xf_reviewer"), report, "部门会商", choose=("可以办理",),
         fill={"opinion": "同意并联踏勘。"})  # fmt: skip
    step(pages(staff, "center_deputy"), report, "协调决定", choose=("马上办",),
         fill={"answer": "两部门并联办理，本周联合踏勘。"})  # fmt: skip
    step(center, report, "跟踪回访", fill={"callback_note": "已踏勘。"})
    assert {case_of(session, n).status for n in (complaint, report)} == {"delivered"}

    # the complainant reads the answer with the number and password
    visitor.goto(f"{live_server}/verify/case")
    visitor.fill("#number", complaint)
    visitor.fill("#password", password)
    visitor.click("form button[type=submit]")
    visitor.wait_for_selector("#case-found")
    read(visitor, "投诉查询")
    assert "已落实午休轮岗" in visitor.inner_text("#public-answer")
    assert re.search(r"办结|送达", visitor.inner_text("#public-status"))
