"""At the window, through the pages: intake, the work of each step, the result, 送达.

The demo county and the shipped catalog, as ``scripts/run`` sets them up. Each
step is done by the demo user the diagram routes it to, on the task page, with
the page's own CSRF token and version. (The 联办件 and the 上报件 are driven in
a real browser in tests/e2e/test_window.py.)
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select, update

from app.cases.identity import mask
from app.cases.payments import open_payments
from app.clock import center_clock
from app.models.cases import Case, CasePause
from app.models.items import Item
from app.models.org import Region
from workflows.calendar import WorkCalendar

from ..conftest import BEIJING, CSRF, DEMO_PASSWORD, api_for, signed_in

ID_NUMBER = "11010519491231002X"
# the item-specific intake fields of the shipped items (prefix f_: see app/cases/intake_form.py)
FOOD = {
    "f_workshop_name": "老周豆腐坊",
    "f_workshop_address": "城关街道 3 组",
    "f_food_category": "soy",
}
AD = {
    "f_facility_type": "wall",
    "f_setting_address": "城关街道解放路 12 号",
    "f_facility_width": "8",
    "f_facility_height": "2.5",
    "f_ad_content": "青山县老周豆腐坊",
    "f_set_until": "2029-11-30",
}
JOINT = {"f_business_address": "城关街道解放路 18 号"}
VILLAGE = "490102100001"  # 东河社区, the first community of the demo county (v0101)


def clock_start(moment: datetime) -> date:
    """The working day a case accepted at ``moment`` (naive UTC) starts its clock on:
    the local (Beijing) day, the next one after 17:30, then the next working day."""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    day = local.date() + timedelta(days=1 if local.time() >= time(17, 30) else 0)
    return WorkCalendar().next_workday(day)


def window(app, username: str = "center_clerk"):
    return signed_in(app, username, DEMO_PASSWORD)


def item_id(session, code: str) -> int:
    return session.scalars(select(Item.id).where(Item.code == code)).one()


def region_id(session, code: str) -> int:
    return session.scalars(select(Region.id).where(Region.code == code)).one()


def case_of(session, number: str) -> Case:
    session.expire_all()
    return session.scalars(select(Case).where(Case.number == number)).one()


NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def intake(client, session, code: str, action: str, *, skip=(), extra=None, place=VILLAGE):
    """Fill the 受理台 for ``code``: every material except those whose name has a word of ``skip``."""
    item = session.get(Item, item_id(session, code))
    page = client.get(f"/cases/intake?item={item.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert item.name in html
    form = {
        "csrf_token": CSRF.search(html).group(1),
        "nonce": NONCE.search(html).group(1),
        "item": item.id,
        "applicant_type": "person",
        "applicant_name": "周建华",
        "applicant_id_number": ID_NUMBER,
        "applicant_phone": "13900000000",
        "place": region_id(session, place),
        "materials": [m.id for m in item.materials if not any(w in m.name for w in skip)],
        "action": action,
        **(extra or {}),
    }
    return client.post("/cases/intake", data=form)


def received(response) -> str:
    """The case number the intake redirected to."""
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return re.search(r"/cases/(\d{19})$", response.headers["Location"]).group(1)


def case_page(client, number: str) -> str:
    response = client.get(f"/cases/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def act(client, number: str, action: str, data=None):
    html = case_page(client, number)
    form = {"csrf_token": CSRF.search(html).group(1), **(data or {})}
    response = client.post(f"/cases/{number}/{action}", data=form)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def do(app, session, username: str, number: str, step: str, data: dict) -> None:
    """``username`` opens ``step`` of the case from their worklist and submits its form."""
    client = window(app, username)
    instance_id = case_of(session, number).instance_id
    desk = client.get("/desk/").get_data(as_text=True)
    rows = re.findall(rf'data-item="(\d+)" data-bpmn="(\w+)" data-instance="{instance_id}"', desk)
    assert [bpmn for _item, bpmn in rows] == [step], (username, rows)
    assert number in desk  # the worklist names the case by its number
    work_item = rows[0][0]
    html = client.get(f"/desk/items/{work_item}").get_data(as_text=True)
    assert number in html
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"csrf_token": CSRF.search(html).group(1), "version": version, "action": "complete"}
    response = client.post(f"/desk/items/{work_item}", data={**form, **data})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]


def pay_fee(client, session, number: str, receipt_no: str = "QS-SF-0001") -> str:
    """现场缴费 at the window: the amount the 缴费通知书 asks, with a receipt number."""
    (payment,) = open_payments(session, case_of(session, number))
    html = case_page(client, number)
    form = {
        "csrf_token": CSRF.search(html).group(1),
        "receipt_no": receipt_no,
        "amount": str(payment.amount_due),
    }
    response = client.post(f"/cases/{number}/payments/{payment.id}/confirm", data=form)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def first_review(app, session, number: str, decision: str = "return") -> None:
    """户外广告: the housing bureau's handler decides the first review (退回补正 by default)."""
    if decision == "return":
        data = {"decision": "return", "opinion": "缺结构图", "correction_items": "设施结构安全图"}
    else:
        data = {"decision": decision, "opinion": "符合规划"}
    do(app, session, "zjj_handler", number, "Task_FirstReview", data)


def deliver(client, session, number: str) -> str:
    html = act(client, number, "deliver", {"receiver": "周建华", "method": "窗口直接送达"})
    assert "已送达，已出具送达回证" in html
    assert case_of(session, number).status == "delivered"
    return html


def kinds(session, number: str) -> list[str]:
    return [d.kind for d in case_of(session, number).documents]


# --- the three items done by test client ---------------------------------------------


@pytest.mark.moments("wed-0750", "fri-1731", "sun-1500", "sep30-2145")
def test_instant_item_is_decided_at_the_window_and_delivered(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",)))
    case = case_of(session, number)
    assert case.status == "accepted"
    assert case.promised_date == clock_start(case.accepted_at)
    do(
        app,
        session,
        "center_clerk",
        number,
        "Task_Decide",
        {
            "change_type": "premises",
            "change_detail": "城关街道 3 组 → 解放路 12 号",
            "decision": "approve",
            "opinion": "材料齐全，准予变更。",
            "registration_no": "92490102MA0000001X",
        },
    )
    case = case_of(session, number)
    assert (case.status, case.result) == ("decided", "approve")
    html = deliver(clerk, session, number)
    assert "材料齐全，准予变更。" in html and "准予" in html
    # decided on the spot: no 受理通知书
    assert kinds(session, number) == ["receipt", "decision", "delivery"]


def test_promise_item_goes_through_handler_reviewer_and_leader(app, shipped, session):
    clerk = window(app)
    facts = FOOD
    number = received(intake(clerk, session, "SCJ-SPXZF-DJ", "accept", extra=facts))
    case = case_of(session, number)
    assert case.instance.data["workshop_name"] == "老周豆腐坊"
    calendar = WorkCalendar()
    assert case.promised_date == calendar.add_workdays(clock_start(case.accepted_at), 7)
    assert case.promised_date.isoformat() in case_page(clerk, number)

    do(
        app,
        session,
        "scj_spg_handler",
        number,
        "Task_Handle",
        {
            "site_check": "pass",
            "check_date": "2026-11-23",
            "decision": "approve",
            "opinion": "符合条件",
        },
    )
    do(
        app,
        session,
        "scj_spg_reviewer",
        number,
        "Task_Review",
        {"decision": "approve", "opinion": "同意"},
    )
    assert case_of(session, number).status == "processing"
    do(
        app,
        session,
        "scj_deputy",
        number,
        "Task_Sign",
        {"decision": "approve", "opinion": "同意登记", "certificate_no": "SCJ-XZF-2026-0001"},
    )
    case = case_of(session, number)
    assert (case.status, case.result) == ("decided", "approve")
    history = case_page(clerk, number)
    for step, opinion in (("承办", "符合条件"), ("审核", "同意"), ("签批", "同意登记")):
        assert re.search(rf"<td>[^<]*{step}[^<]*</td>.*?{opinion}", history, re.S), step
    deliver(clerk, session, number)
    decision = case_of(session, number).documents[-2]
    assert decision.kind == "decision" and decision.facts["certificate_no"] == "SCJ-XZF-2026-0001"


def test_outdoor_ad_corrects_inside_the_process_and_cosigns(app, shipped, session):
    clerk = window(app)
    facts = AD
    # a number the form cannot read comes back next to its field, nothing stored
    bad = intake(
        clerk, session, "ZJJ-HWGG-SZSP", "accept", extra={**facts, "f_facility_width": "八米"}
    )
    assert bad.status_code == 422
    assert "is-invalid" in bad.get_data(as_text=True)
    assert session.scalars(select(Case)).all() == []

    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=facts))
    assert case_of(session, number).instance.data["facility_width"] == 8
    first_review(app, session, number)
    do(
        app,
        session,
        "center_clerk",
        number,
        "Task_Correction",
        {"received_on": "2026-11-24", "received_materials": "设施结构安全图"},
    )
    do(
        app,
        session,
        "zjj_handler",
        number,
        "Task_FirstReview",
        {"decision": "approve", "opinion": "符合规划"},
    )
    for username in ("scj_reviewer", "ly_reviewer", "zrzy_reviewer"):
        do(app, session, username, number, "Task_Cosign", {"decision": "agree", "opinion": "同意"})
    do(
        app,
        session,
        "zjj_deputy",
        number,
        "Task_Sign",
        {"decision": "approve", "opinion": "同意设置", "certificate_no": "QS-HWGG-2026-001"},
    )
    assert case_of(session, number).status == "processing"  # 等待缴费
    assert "已登记现场缴费 200.00 元" in pay_fee(clerk, session, number)
    assert case_of(session, number).status == "decided"
    history = case_page(clerk, number)
    assert history.count("会签") >= 3 and "缺结构图" in history
    deliver(clerk, session, number)


# --- at the window: 补正, 不予受理, and the verification code -------------------------


def test_missing_materials_are_told_at_once_then_the_case_is_accepted(app, shipped, session):
    clerk = window(app)
    missing = ("营业执照", "健康证明")
    item = session.get(Item, item_id(session, "SCJ-SPXZF-DJ"))
    names = {m.name for m in item.materials}
    skip = tuple(n for n in names if any(word in n for word in missing))
    assert len(skip) >= 1
    facts = FOOD
    # 受理 with required materials unticked is refused, and nothing is stored
    refused = intake(clerk, session, "SCJ-SPXZF-DJ", "accept", skip=skip, extra=facts)
    assert refused.status_code == 422
    assert session.scalars(select(Case)).all() == []

    number = received(
        intake(
            clerk,
            session,
            "SCJ-SPXZF-DJ",
            "correct",
            skip=skip,
            extra={**facts, "note": "申请表第 3 页需签字"},
        )
    )
    case = case_of(session, number)
    assert case.status == "correcting" and case.instance_id is None
    assert case.promised_date is None  # the clock has not started
    notice = case.documents[-1]
    assert notice.kind == "correction"
    assert {m["name"] for m in notice.facts["missing"]} == set(skip)
    printed = app.test_client()  # the notice prints for the clerk, not for anyone
    anonymous = printed.get(f"/cases/{number}/documents/{notice.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    text = clerk.get(f"/cases/{number}/documents/{notice.id}").get_data(as_text=True)
    assert all(name in text for name in skip) and "申请表第 3 页需签字" in text

    late = [m.id for m in case.materials if m.name in skip]
    html = act(clerk, number, "correction_received", {"materials": late})
    assert "已接收补正材料" in html
    html = act(clerk, number, "accept")
    assert "已受理" in html
    case = case_of(session, number)
    assert case.status == "accepted" and case.promised_date is not None
    assert case.instance.data["workshop_name"] == "老周豆腐坊"
    assert kinds(session, number) == ["receipt", "correction", "correction_receipt", "acceptance"]


@pytest.mark.moments
def test_the_intake_desk_warns_of_applications_to_answer_by_the_next_working_day(
    app, shipped, session, moment
):
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "receive", skip=("委托书",)))
    case = case_of(session, number)
    calendar = WorkCalendar()
    with app.app_context():
        received_on = center_clock().day_of(case.received_at)
    assert received_on == moment.date()  # the local day, even when UTC still says yesterday
    assert case.decision_due == calendar.add_workdays(received_on, 5)
    warning = f"{number}</a>（周建华，{case.decision_due} 前）"

    def desk_on(working_days_later: int) -> str:
        day = calendar.add_workdays(received_on, working_days_later)
        with time_machine.travel(datetime.combine(day, time(10), tzinfo=BEIJING)):
            # days later: yesterday's login has ended, the clerk logs in again
            return window(app).get("/cases/intake").get_data(as_text=True)

    assert warning not in clerk.get("/cases/intake").get_data(as_text=True)
    assert warning not in desk_on(3)
    assert warning in desk_on(4)  # the answer is due the next working day
    assert warning in desk_on(5)


def test_refusal_at_the_window_prints_the_notice_with_the_reason(app, shipped, session):
    clerk = window(app)
    no_reason = intake(clerk, session, "SCJ-GTGSH-BGDJ", "refuse")
    assert no_reason.status_code == 422
    assert session.scalars(select(Case)).all() == []
    reason = "申请人不是该个体工商户的经营者，不属于本事项受理范围。"
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "refuse", extra={"reason": reason}))
    case = case_of(session, number)
    assert case.status == "refused" and case.instance_id is None
    notice = case.documents[-1]
    text = clerk.get(f"/cases/{number}/documents/{notice.id}").get_data(as_text=True)
    assert reason in text and "行政复议" in text and "行政诉讼" in text
    # a refused case offers no more window acts
    page = case_page(clerk, number)
    acts = re.findall(rf'action="/cases/{number}/(\w+)"', page)
    assert acts == []  # no 受理, 补正, 不予受理, 撤件 or 送达 any more (scans may still be filed)


def test_a_village_window_receives_only_for_its_own_village(app, shipped, session):
    other = "490102100002"
    clerk = window(app, "v0101_clerk")
    response = intake(clerk, session, "ZRZY-KCPJG-HF", "accept", place=other)
    assert response.status_code == 422
    assert "受理范围" in response.get_data(as_text=True)
    assert session.scalars(select(Case)).all() == []


def test_the_public_page_finds_a_document_by_its_verification_code(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-SPXZF-DJ", "accept", extra=FOOD))
    acceptance = case_of(session, number).documents[-1]
    assert acceptance.kind == "acceptance"

    public = app.test_client()  # a bank clerk, not logged in
    page = public.get("/verify/").get_data(as_text=True)
    found = public.post(
        "/verify/",
        data={"csrf_token": CSRF.search(page).group(1), "code": acceptance.verification_code},
    )
    assert found.status_code == 200
    text = found.get_data(as_text=True)
    assert "受理通知书" in text and number in text
    assert "食品小作坊登记" in text and "青山县市场监督管理局" in text  # 出具机构: 实施机关
    assert ID_NUMBER not in text  # key facts, not the applicant's identity
    wrong = public.post(
        "/verify/", data={"csrf_token": CSRF.search(page).group(1), "code": "ABCD-EFGH-JKLM"}
    )
    assert wrong.status_code == 404


def test_a_result_the_diagram_delivers_itself_is_not_delivered_from_the_case_page(
    app, shipped, session
):
    clerk = window(app, "v0101_clerk")
    facts = {
        "f_company_name": "青山县白沙石料厂",
        "f_product_type": "building_stone",
        "f_plant_address": "东河社区北岭",
    }
    number = received(intake(clerk, session, "ZRZY-KCPJG-HF", "accept", extra=facts))
    approve = {"decision": "approve", "opinion": "同意"}
    do(app, session, "t01_reviewer", number, "Task_TownshipReview", approve)
    do(app, session, "zrzy_kc_reviewer", number, "Task_CountyReview", approve)
    do(
        app,
        session,
        "city_zrzy_kc_reviewer",
        number,
        "Task_CityApproval",
        {**approve, "certificate_no": "PA-KCJG-2026-0008"},
    )
    assert case_of(session, number).status == "decided"
    html = act(clerk, number, "deliver", {"receiver": "周建华"})
    assert "送达步骤" in html
    assert case_of(session, number).status == "decided"
    do(
        app,
        session,
        "v0101_clerk",
        number,
        "Task_Deliver",
        {"delivered_on": "2026-12-01", "receiver_name": "周建华"},
    )
    case = case_of(session, number)
    assert case.status == "delivered"
    assert [d.kind for d in case.documents].count("delivery") == 1
    assert case.documents[-1].facts["receiver"] == "周建华"


def test_scans_of_materials_are_stored_once_by_content_and_checked(app, shipped, session):
    from app.models.files import Blob

    clerk = window(app)
    number = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",)))
    case = case_of(session, number)
    first, second = case.materials[0], case.materials[1]
    scan = b"%PDF-1.7\n" + "营业执照扫描件".encode() + b"\n%%EOF\n"

    def upload(material, content: bytes, name: str) -> str:
        html = case_page(clerk, number)
        response = clerk.post(
            f"/cases/{number}/materials/{material.id}/upload",
            data={"csrf_token": CSRF.search(html).group(1), "file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return clerk.get(response.headers["Location"]).get_data(as_text=True)

    assert "已上传材料文件" in upload(first, scan, "申请书.pdf")
    assert "已上传材料文件" in upload(second, scan, "身份证.pdf")
    assert session.query(Blob).count() == 1  # the same bytes, stored once
    blob = session.scalars(select(Blob)).one()
    assert blob.sha256 == hashlib.sha256(scan).hexdigest() and blob.size == len(scan)
    download = clerk.get(f"/cases/{number}/materials/{first.id}")
    assert download.data == scan
    assert (
        "申请书.pdf" in download.headers["Content-Disposition"]
        or "filename*" in (download.headers["Content-Disposition"])
    )

    assert "内容与扩展名 .png 不符" in upload(first, scan, "照片.png")
    assert "不接受 .exe 文件" in upload(first, b"MZ\x90\x00", "scan.exe")
    assert "是空的" in upload(first, b"", "empty.pdf")
    app.config["FILE_MAX_BYTES"] = 1024
    assert "超过" in upload(first, b"%PDF-" + b"0" * 2048, "big.pdf")
    assert case_of(session, number).materials[0].filename == "申请书.pdf"  # nothing lost
    assert session.query(Blob).count() == 1
    # people outside the case's region cannot fetch its files
    stranger = window(app, "v0201_clerk")
    assert stranger.get(f"/cases/{number}/materials/{first.id}").status_code == 403


def test_green_channel_cases_come_first_in_every_worklist(app, shipped, session):
    clerk = window(app)
    address = JOINT

    def joint(**more) -> str:
        extra = {**address, **more}
        return received(intake(clerk, session, "SCJ-GZJJCS-LHSC", "accept", extra=extra))

    # received in this order: older work comes first, newer cases first, except green ones
    before, green, after = joint(), joint(green_channel="on"), joint()
    assert case_of(session, green).green_channel and not case_of(session, before).green_channel
    for username in ("xf_reviewer", "sthj_reviewer", "wjw_reviewer"):
        desk = window(app, username).get("/desk/").get_data(as_text=True)
        assert desk.index(green) < desk.index(before) < desk.index(after), username
        assert "绿色通道" in desk[desk.index(green) : desk.index(before)]
        assert "绿色通道" not in desk[desk.index(before) :]
    cases = clerk.get("/cases/").get_data(as_text=True).split('id="cases"')[1]
    assert cases.index(green) < cases.index(after) < cases.index(before)
    # an item not eligible for the green channel ignores the box
    plain = intake(
        clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",), extra={"green_channel": "on"}
    )
    assert not case_of(session, received(plain)).green_channel


def test_the_applicant_follows_the_case_with_its_number_and_query_password(app, shipped, session):
    clerk = window(app)
    response = intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",))
    number = received(response)
    flash = clerk.get(response.headers["Location"]).get_data(as_text=True)
    password = re.search(r"查询密码 (\d{6})", flash).group(1)
    receipt = case_of(session, number).documents[0]
    printed = clerk.get(f"/cases/{number}/documents/{receipt.id}").get_data(as_text=True)
    assert "/verify/case" in printed and password not in printed

    applicant = app.test_client()
    form = applicant.get("/verify/case").get_data(as_text=True)

    def query(num: str, pw: str):
        data = {"csrf_token": CSRF.search(form).group(1), "number": num, "password": pw}
        return applicant.post("/verify/case", data=data)

    found = query(number, password)
    assert found.status_code == 200
    text = found.get_data(as_text=True)
    assert "个体工商户变更登记" in text and "受理" in text
    assert mask("周建华", 1, 0) == "周**"
    assert "周**" in text and "周建华" not in text and ID_NUMBER not in text
    assert "当前环节" not in text  # accepted, nobody has worked it yet
    wrong = str((int(password) + 1) % 10**6).zfill(6)
    assert query(number, wrong).status_code == 404
    assert "6 位数字" in query(number, "12ab").get_data(as_text=True)

    # many wrong passwords lock this case for everyone for a while, not other cases
    app.config["VERIFY_MAX_FAILURES"] = 3
    for _ in range(2):
        assert query(number, wrong).status_code == 404
    locked = query(number, password)
    assert locked.status_code == 429 and "查询过于频繁" in locked.get_data(as_text=True)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    page = elsewhere.get("/verify/case").get_data(as_text=True)
    data = {"csrf_token": CSRF.search(page).group(1), "number": number, "password": password}
    assert elsewhere.post("/verify/case", data=data).status_code == 429
    other = received(intake(clerk, session, "SCJ-GTGSH-BGDJ", "accept", skip=("委托书",)))
    assert elsewhere.post("/verify/case", data={**data, "number": other}).status_code == 404


def backdate_pause(session, number: str, started: datetime) -> None:
    """Pretend the open pause began at ``started`` (tests cannot wait for days)."""
    case = case_of(session, number)
    session.execute(
        update(CasePause)
        .where(CasePause.case_id == case.id, CasePause.ended_at.is_(None))
        .values(started_at=started)
    )


@pytest.mark.moments("wed-0750", "fri-1731", "sun-1500", "sep30-2145", "2027-0104")
def test_a_special_procedure_stops_the_clock_and_moves_the_promised_date(app, shipped, session):
    clerk = window(app)
    facts = FOOD
    number = received(intake(clerk, session, "SCJ-SPXZF-DJ", "accept", extra=facts))
    promised = case_of(session, number).promised_date
    refused = act(clerk, number, "special", {"procedure": "专家评审", "reason": " "})
    assert "请填写需要特别程序的理由" in refused
    with app.app_context():
        today = center_clock().today()  # the local day, whatever UTC says
    expert = {"procedure": "专家评审", "reason": "生产工艺需专家论证"}
    yesterday = (today - timedelta(days=1)).isoformat()
    assert "预计结束日期不能早于今天" in act(
        clerk, number, "special", {**expert, "expected_end": yesterday}
    )
    html = act(clerk, number, "special", {**expert, "expected_end": today.isoformat()})
    assert "已开始特别程序" in html and 'id="paused"' in html
    case = case_of(session, number)
    notice = case.documents[-1]
    assert notice.kind == "special_procedure" and notice.facts["procedure"] == "专家评审"
    assert (notice.facts["start"], notice.facts["expected_end"]) == (today.isoformat(),) * 2
    again = act(clerk, number, "special", {"procedure": "检验", "reason": "再检验"})
    assert "办件已在暂停计时中" in again
    assert len(session.scalars(select(CasePause)).all()) == 1

    # the review took eight days up to now: the working days in them do not count
    with app.app_context():
        clock = center_clock()
        started = clock.now() - timedelta(days=8)
        paused = clock.calendar.workdays_between(clock.day_of(started), clock.today())
    backdate_pause(session, number, started)
    calendar = WorkCalendar()
    html = act(clerk, number, "resume", {"note": "专家评审已完成"})
    assert "已恢复计时" in html
    case = case_of(session, number)
    assert case.promised_date == calendar.add_workdays(promised, paused)
    pause = session.scalars(select(CasePause)).one()
    assert (pause.paused_workdays, pause.end_note) == (paused, "专家评审已完成")
    assert "恢复计时" in case_page(clerk, number)


@pytest.mark.moments("wed-0750", "sun-1500", "2027-0104")
def test_a_return_for_correction_inside_the_process_pauses_the_clock(app, shipped, session):
    clerk = window(app)
    facts = AD
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=facts))
    promised = case_of(session, number).promised_date
    assert session.scalars(select(CasePause)).all() == []  # intake itself is not a pause
    first_review(app, session, number)
    pause = session.scalars(select(CasePause)).one()
    assert pause.kind == "correction" and pause.ended_at is None
    assert 'id="paused"' in case_page(clerk, number)
    with app.app_context():
        clock = center_clock()
        started = clock.now() - timedelta(days=7)  # the applicant took a week
        paused = clock.calendar.workdays_between(clock.day_of(started), clock.today())
    backdate_pause(session, number, started)
    do(
        app,
        session,
        "center_clerk",
        number,
        "Task_Correction",
        {"received_on": "2026-11-24", "received_materials": "设施结构安全图"},
    )
    session.expire_all()
    pause = session.scalars(select(CasePause)).one()
    calendar = WorkCalendar()
    assert pause.ended_at is not None and pause.paused_workdays == paused
    assert case_of(session, number).promised_date == calendar.add_workdays(promised, paused)


def test_a_step_attaches_a_file_that_later_steps_can_open(app, shipped, session):
    facts = FOOD
    number = received(intake(window(app), session, "SCJ-SPXZF-DJ", "accept", extra=facts))
    handler = window(app, "scj_spg_handler")
    instance_id = case_of(session, number).instance_id
    desk = handler.get("/desk/").get_data(as_text=True)
    item = re.search(
        rf'data-item="(\d+)" data-bpmn="Task_Handle" data-instance="{instance_id}"', desk
    ).group(1)
    page = handler.get(f"/desk/items/{item}").get_data(as_text=True)
    assert 'name="site_photo__upload"' in page and 'enctype="multipart/form-data"' in page
    form = {
        "csrf_token": CSRF.search(page).group(1),
        "version": re.search(r'name="version" value="(\d+)"', page).group(1),
        "action": "complete",
        "site_check": "pass",
        "decision": "approve",
        "opinion": "现场核查符合要求",
    }
    photo = b"\xff\xd8\xff\xe0" + b"JFIF" + b"\x00" * 64
    fake = handler.post(
        f"/desk/items/{item}",
        data={**form, "site_photo__upload": (io.BytesIO(b"MZ\x90"), "照片.jpg")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    assert "内容与扩展名 .jpg 不符" in fake.get_data(as_text=True)
    done = handler.post(
        f"/desk/items/{item}",
        data={**form, "site_photo__upload": (io.BytesIO(photo), "现场照片.jpg")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    data = case_of(session, number).instance.data
    assert data["site_photo"] == f"{hashlib.sha256(photo).hexdigest()}/现场照片.jpg"

    # the reviewer sees the handler's answer with the file and opens it
    reviewer = window(app, "scj_spg_reviewer")
    desk = reviewer.get("/desk/").get_data(as_text=True)
    review = re.search(
        rf'data-item="(\d+)" data-bpmn="Task_Review" data-instance="{instance_id}"', desk
    ).group(1)
    assert reviewer.get(f"/desk/items/{review}/files/site_photo").data == photo
    assert handler.get(f"/desk/items/{item}/files/site_photo").data == photo
    stranger = window(app, "v0201_clerk")
    assert stranger.get(f"/desk/items/{review}/files/site_photo").status_code == 403
    assert reviewer.get(f"/desk/items/{review}/files/opinion").status_code == 404


def test_a_closed_steps_file_and_details_stay_with_who_sees_the_case(app, shipped, session):
    """A closed work item is no one's business but the case's: not its file, not its
    data, not its return targets (the audit found "closed" opened all three)."""
    number = received(intake(window(app), session, "SCJ-SPXZF-DJ", "accept", extra=FOOD))
    instance_id = case_of(session, number).instance_id
    handler = window(app, "scj_spg_handler")
    desk = handler.get("/desk/").get_data(as_text=True)
    item = re.search(
        rf'data-item="(\d+)" data-bpmn="Task_Handle" data-instance="{instance_id}"', desk
    ).group(1)
    page = handler.get(f"/desk/items/{item}").get_data(as_text=True)
    photo = b"\xff\xd8\xff\xe0" + b"JFIF" + b"\x00" * 64
    form = {
        "csrf_token": CSRF.search(page).group(1),
        "version": re.search(r'name="version" value="(\d+)"', page).group(1),
        "action": "complete",
        "site_check": "pass",
        "decision": "approve",
        "opinion": "现场核查符合要求",
        "site_photo__upload": (io.BytesIO(photo), "现场照片.jpg"),
    }
    assert handler.post(f"/desk/items/{item}", data=form).status_code == 302

    stranger = window(app, "v0201_clerk")
    assert stranger.get(f"/desk/items/{item}/files/site_photo").status_code == 403
    assert handler.get(f"/desk/items/{item}/files/site_photo").data == photo
    outsider = api_for(app, "v0201_clerk")
    assert outsider.get(f"/api/v1/work-items/{item}").status_code == 403
    assert outsider.get(f"/api/v1/work-items/{item}/return-targets").status_code == 403
    assert api_for(app, "scj_spg_handler").get(f"/api/v1/work-items/{item}").status_code == 200
