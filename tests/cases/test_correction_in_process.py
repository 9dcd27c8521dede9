"""补正 inside the process: the reviewing department asks for more material.

户外广告设施设置审批, through the pages: the housing bureau's 初审 chooses 需补正
with its list; the 补正材料通知书 is issued with that list, the window sees it on
its 补正材料接收 task and on the case page, the clock stops until the window records
the material received, and the 初审 comes back with a form of its own.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.clock import center_clock
from app.models.cases import CasePause
from workflows.calendar import WorkCalendar

from .test_window_pages import (
    AD,
    backdate_pause,
    case_of,
    case_page,
    do,
    intake,
    received,
    window,
)

LIST = "1. 设施结构安全图\n2、产权人同意设置的书面意见；现场彩色照片"
ASKED = ["设施结构安全图", "产权人同意设置的书面意见", "现场彩色照片"]


def notice_items(html: str) -> list[str]:
    block = re.search(r'id="correction-items">(.*?)</ol>', html, re.S)
    assert block, "no 补正 list on the page"
    return re.findall(r"<li>(.*?)</li>", block.group(1))


def open_item(client, session, number: str, step: str) -> str:
    instance_id = case_of(session, number).instance_id
    desk = client.get("/desk/").get_data(as_text=True)
    rows = re.findall(rf'data-item="(\d+)" data-bpmn="{step}" data-instance="{instance_id}"', desk)
    assert len(rows) == 1, (step, desk[:2000])
    return client.get(f"/desk/items/{rows[0]}").get_data(as_text=True)


def test_a_department_asks_for_correction_and_the_window_follows_it_to_the_end(
    app, shipped, session
):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    promised = case_of(session, number).promised_date
    assert 'id="correction-notice"' not in case_page(clerk, number)

    asked = {"decision": "return", "opinion": "结构安全资料不全。", "correction_items": LIST}
    do(app, session, "zjj_handler", number, "Task_FirstReview", asked)

    # the 补正材料通知书, in the name of what the department asked
    case = case_of(session, number)
    notice = [d for d in case.documents if d.kind == "correction"]
    assert len(notice) == 1
    facts = notice[0].facts
    assert [m["name"] for m in facts["missing"]] == ASKED
    assert facts["in_process"] and facts["requested_step"] == "初审"
    assert "住房和城乡建设局" in facts["requested_by"]
    assert facts["deadline_note"] == "结构安全资料不全。"
    printed = clerk.get(f"/cases/{number}/documents/{notice[0].id}")
    assert printed.status_code == 200
    page = printed.get_data(as_text=True)
    assert all(name in page for name in ASKED) and "不计入办理时限" in page

    # the window sees the list on its task and on the case page; the clock stops
    task = open_item(clerk, session, number, "Task_Correction")
    assert notice_items(task) == ASKED
    assert "设施结构安全图" in task  # the form's read-only 补正材料清单 too
    detail = case_page(clerk, number)
    assert notice_items(detail) == ASKED and 'id="paused"' in detail
    pause = session.scalars(select(CasePause)).one()
    assert pause.kind == "correction" and pause.ended_at is None
    with app.app_context():
        clock = center_clock()
        started = clock.now() - timedelta(days=9)  # the applicant took nine days
        paused = clock.calendar.workdays_between(clock.day_of(started), clock.today())
    backdate_pause(session, number, started)

    # the window records the material received: the clock runs again, moved on
    do(
        app,
        session,
        "center_clerk",
        number,
        "Task_Correction",
        {"received_on": "2026-11-24", "received_materials": "、".join(ASKED)},
    )
    session.expire_all()
    pause = session.scalars(select(CasePause)).one()
    assert pause.ended_at is not None and pause.paused_workdays == paused
    assert case_of(session, number).promised_date == WorkCalendar().add_workdays(promised, paused)
    assert 'id="correction-notice"' not in case_page(clerk, number)

    # the review continues, its form its own: not last round's 需补正 and list
    reviewer = window(app, "zjj_handler")
    again = open_item(reviewer, session, number, "Task_FirstReview")
    assert (
        'value="return" checked' not in again
        and "结构安全资料不全" not in again.split('id="task-form"')[-1].split("</form>")[0]
    )
    do(
        app,
        session,
        "zjj_handler",
        number,
        "Task_FirstReview",
        {"decision": "approve", "opinion": "符合规划"},
    )
    assert case_of(session, number).instance.data["decision"] == "approve"


def test_a_correction_list_is_split_into_materials():
    from app.cases.corrections import listed_items

    assert listed_items(LIST) == ASKED
    assert listed_items("（1）营业执照\r\n(2) 租赁合同\n\n") == ["营业执照", "租赁合同"]
    assert listed_items(None) == [] and listed_items(["甲", " "]) == ["甲"]
