"""补正 asked by a department inside the process, answered online: the applicant reads
the department's list on 我的办件, uploads the files, and the window finds them on its
补正材料接收 step; the clock restarts only when the window records them."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.models.cases import CaseEvent, CasePause

from ..cases.test_correction_in_process import ASKED, LIST, open_item
from ..cases.test_window_pages import AD, VILLAGE, act, case_of, do, region_id, window
from .test_accounts import OTHER_PERSON_ID, register, token
from .test_online import SCAN, materials, send, start

AD_CODE = "ZJJ-HWGG-SZSP"


@pytest.fixture
def person(shipped, app, client):
    assert register(client).status_code == 302
    return client


def asked_for_more(app, client, session) -> str:
    draft = start(client, AD_CODE)
    ids = [m.id for m in materials(session, AD_CODE) if m.required]
    response = send(
        client, draft, "submit", files=ids, data={"place": region_id(session, VILLAGE), **AD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    number = re.search(r"/portal/cases/(\d{19})$", response.headers["Location"]).group(1)
    act(window(app), number, "accept")
    asked = {"decision": "return", "opinion": "结构安全资料不全。", "correction_items": LIST}
    do(app, session, "zjj_handler", number, "Task_FirstReview", asked)
    return number


def post_files(client, number: str, files: dict[int, bytes], note: str = ""):
    body = {"csrf_token": token(client, "/portal/cases"), "note": note}
    for index, content in files.items():
        body[f"supplement-{index}"] = (io.BytesIO(content), f"补正{index}.pdf")
    return client.post(
        f"/portal/cases/{number}/supplement", data=body, content_type="multipart/form-data"
    )


def test_the_applicant_answers_a_departments_list_online(person, app, session):
    number = asked_for_more(app, person, session)
    mine = person.get("/portal/cases").get_data(as_text=True)
    assert f'data-reminder="{number}"' in mine and "审查部门要求补正材料" in mine
    page = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert 'id="supplement-panel"' in page and all(name in page for name in ASKED)
    assert "结构安全资料不全" in page and "补正材料通知书（PDF）" in page

    # nothing chosen: told, nothing kept
    refused = post_files(person, number, {})
    assert refused.status_code == 422 and "请至少上传一份补正材料" in refused.get_data(as_text=True)
    # a file the store refuses (not a document): named, nothing kept
    bad = post_files(person, number, {1: b"MZ\x90\x00 not a document"})
    assert bad.status_code == 422
    assert [m for m in case_of(session, number).materials if m.item_material_id is None] == []

    sent = post_files(person, number, {1: SCAN, 3: SCAN}, note="照片另附两张")
    assert sent.status_code == 302
    case = case_of(session, number)
    extra = [m for m in case.materials if m.item_material_id is None]
    assert [m.name for m in extra] == ["设施结构安全图（补正）", "现场彩色照片（补正）"]
    assert [(m.received, m.received_round) for m in extra] == [(True, 1), (True, 1)]
    assert all(m.blob_sha256 for m in extra)
    event = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "correction_submitted"
        )
    ).one()
    assert event.message == "设施结构安全图、现场彩色照片；照片另附两张"
    page = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert 'id="supplement-sent"' in page and "网上提交补正材料" in page

    # the window sees the files on its step and on the case page, and may open them
    clerk = window(app)
    task = open_item(clerk, session, number, "Task_Correction")
    assert 'id="correction-sent"' in task and "补正1.pdf" in task and "补正3.pdf" in task
    link = clerk.get(f"/cases/{number}/materials/{extra[0].id}")
    assert link.status_code == 200 and link.data == SCAN
    # the clock is still stopped: only the window's record restarts it
    assert session.scalars(select(CasePause.ended_at)).one() is None
    do(app, session, "center_clerk", number, "Task_Correction",
       {"received_on": "2026-12-01", "received_materials": "设施结构安全图；现场彩色照片"})  # fmt: skip
    session.expire_all()
    assert session.scalars(select(CasePause.ended_at)).one() is not None
    page = person.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert 'id="supplement-panel"' not in page
    assert post_files(person, number, {1: SCAN}).status_code == 409


def test_another_applicant_cannot_answer_for_it(person, app, session):
    number = asked_for_more(app, person, session)
    other = app.test_client()
    assert register(other, name="李四", id_number=OTHER_PERSON_ID).status_code == 302
    assert post_files(other, number, {1: SCAN}).status_code == 404
    anonymous = app.test_client()
    response = anonymous.post(f"/portal/cases/{number}/supplement", data={})
    assert response.status_code in (302, 400)
    assert [m for m in case_of(session, number).materials if m.item_material_id is None] == []
