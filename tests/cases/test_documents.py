"""The documents a case produces: wording, frozen facts, PDF, verification, who may print."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import date, datetime

import pypdf
import pytest
from sqlalchemy import select

from app.cases import documents, pdf
from app.cases.access import can_view_case
from app.extensions import db
from app.models.cases import Case, CaseDocument, CaseEvent
from app.models.items import Item, ItemMaterial
from app.verify.throttle import Throttle

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"
MATERIALS = [
    {"name": "食品经营许可申请书", "required": True},
    {"name": "营业执照", "required": True},
]
EXTRAS = {
    "payment_notice": {"amount": "805.50", "amount_capital": "捌佰零伍元伍角", "window": "3号窗口"},
    "receipt": {"materials": MATERIALS},
    "acceptance": {
        "materials": MATERIALS,
        "promised_date": date(2026, 10, 22),
        "officer": "v11_window_clerk",
    },
    "correction": {
        "missing": [
            {"name": "营业执照", "note": "加盖公章的复印件"},
            {"name": "健康证明", "note": ""},
        ],
        "deadline_note": "",
    },
    "correction_receipt": {"materials": [{"name": "营业执照"}]},
    "refusal": {"reason": "申请事项不属于本机关职权范围，请向县卫生健康委员会申请"},
    "decision": {
        "result": "approve",
        "opinion": "经现场核查，符合食品经营许可条件",
        "certificate_no": "JY14901020000123",
        "decided_date": "2026-10-20",
    },
    "delivery": {"delivered_date": "2026-10-21", "method": "窗口直接送达", "receiver": "周建华"},
    "special_procedure": {
        "procedure": "专家评审",
        "start": date(2026, 10, 12),
        "reason": "经营场所涉及特殊工艺",
    },
}
WORDING = {
    "receipt": ["申请材料接收凭证", "食品经营许可申请书", "原件", "营业执照", "不表示申请已被受理"],
    "acceptance": [
        "受理通知书",
        "你（单位）于2026年10月8日提出的食品经营许可申请",
        "申请材料齐全、符合法定形式",
        "第三十二条第一款第（五）项",
        "决定予以受理",
        "承诺办结时间：2026年10月22日前",
        "东关村代办点",  # the officer's display name
    ],
    "correction": [
        "补正材料通知书（一次性告知书）",
        "第三十二条第一款第（四）项",
        "一次性告知",
        "营业执照",
        "加盖公章的复印件",
        "健康证明",
        "一次性补正全部材料",
        "自本机关收到你（单位）全部补正材料之日起计算",
    ],
    "correction_receipt": ["补正材料接收凭证", "营业执照"],
    "refusal": [
        "不予受理通知书",
        "不属于本机关职权范围",
        "六十日内依法申请行政复议",
        "六个月内依法提起行政诉讼",
    ],
    "decision": [
        "准予行政许可决定书",
        "决定准予行政许可",
        "第三十八条第一款",
        "符合食品经营许可条件",
        "JY14901020000123",
        "2026年10月20日",
    ],
    "delivery": [
        "送达回证",
        "受送达人",
        "送达文书",
        "送达方式",
        "窗口直接送达",
        "送达时间",
        "2026年10月21日",
        "受送达人签收",
        "送达人",
    ],
    "special_procedure": ["特别程序告知书", "专家评审", "第四十五条", "不计算在", "2026年10月12日"],
    "payment_notice": ["缴费通知书", "¥805.50", "捌佰零伍元伍角", "3号窗口", "收据"],
}


@pytest.fixture
def case(county, session) -> Case:
    item = Item(
        code="DOC-001",
        name="食品经营许可",
        kind="promise",
        lead_department_id=county.departments["scj"].id,
        statutory_days=20,
        committed_days=10,
        status="published",
    )
    item.materials = [
        ItemMaterial(position=0, name="食品经营许可申请书", form="original", copies=1),
        ItemMaterial(position=1, name="营业执照", form="copy", copies=2),
    ]
    case = Case(
        number="4901022026100800001",
        item=item,
        applicant_type="person",
        applicant_name="周建华",
        applicant_id_number=ID_NUMBER,
        applicant_phone=PHONE,
        place=county.regions["v11"],
        county=county.regions["county"],
        received_by="v11_window_clerk",
        received_at=datetime(2026, 10, 8, 1, 30),
    )
    session.add(case)
    session.commit()
    return case


@pytest.fixture
def issue(app, session, case):
    """Issue through the app's session, as the services do; the document as the test reads it."""

    def issue(kind: str, **extra) -> CaseDocument:
        with app.test_request_context():
            found = db.session.get(Case, case.id)
            document = documents.issue(
                db.session, found, kind, actor="v11_window_clerk", **(extra or EXTRAS[kind])
            )
            db.session.commit()
            document_id = document.id
        return session.get(CaseDocument, document_id)

    return issue


def html_of(app, document: CaseDocument) -> str:
    with app.test_request_context():
        return documents.render_html(db.session.get(CaseDocument, document.id))


def pdf_of(app, document: CaseDocument) -> bytes:
    with app.test_request_context():
        return documents.render_pdf(db.session.get(CaseDocument, document.id))


def text_without_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- issuing and wording -----------------------------------------------------------


@pytest.mark.parametrize("kind", list(documents.KINDS))
def test_each_notice_has_its_official_wording_and_the_facts(app, case, issue, session, kind):
    document = issue(kind)
    page = html_of(app, document)
    for words in WORDING[kind]:
        assert words in page, words
    # issued in the name of the item's 实施机关 (here its lead department), not the center
    assert document.facts["authority"] == "青山县市场监督管理局"
    assert page.count("青山县市场监督管理局") >= 2 and document.facts["center_name"] not in page
    assert case.number in page
    assert "（印章）" in page
    grouped = documents.format_code(document.verification_code)
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", grouped)
    assert "可在 http://localhost/verify/ 输入验证码核验本文书" in page
    assert grouped in page
    assert ID_NUMBER not in page and PHONE not in page
    json.dumps(document.facts)  # plain JSON
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert (event.kind, event.message) == ("document_issued", document.facts["title"])


def test_the_facts_are_frozen_when_issued_and_the_id_number_is_masked(app, case, issue, session):
    document = issue("acceptance")
    facts = document.facts
    assert facts["applicant_id_masked"] == "110105********002X"
    assert facts["applicant_phone_masked"] == "139****5678"
    assert facts["promised_date"] == "2026-10-22"
    assert facts["received_date"] == "2026-10-08"
    assert facts["place_name"] == "青山县城关镇东关村"
    assert facts["item_kind_zh"] == "承诺件"
    assert facts["materials"][1] == {
        "name": "营业执照",
        "required": True,
        "copies": 2,
        "form": "copy",
        "form_zh": "复印件",
    }
    assert "contact_phone" not in facts  # no CENTER_PHONE configured: no made-up number
    case.applicant_name = "周建国"
    case.item.name = "改名后的事项"
    session.commit()
    page = html_of(app, document)
    assert "周建华" in page and "周建国" not in page and "改名后的事项" not in page


def test_the_window_phone_is_printed_when_configured(app, case, issue):
    app.config["CENTER_PHONE"] = "0371-12345678"
    page = html_of(app, issue("acceptance"))
    assert "联系电话：0371-12345678" in page


def test_a_refusing_decision_names_the_applicants_rights(app, case, issue):
    document = issue(
        "decision",
        result="reject",
        opinion="经营场所与申请不符",
        decided_date="2026-10-20",
    )
    page = html_of(app, document)
    assert document.facts["title"] == "不予行政许可决定书"
    for words in (
        "不予行政许可决定书",
        "决定不予行政许可",
        "第三十八条第二款",
        "经营场所与申请不符",
    ):
        assert words in page
    assert "六十日内依法申请行政复议" in page and "六个月内依法提起行政诉讼" in page


def test_the_proof_of_delivery_names_the_decision_it_served(app, case, issue):
    issue("decision")
    document = issue("delivery")
    assert document.facts["served_document"] == "准予行政许可决定书"


def test_unknown_kinds_and_missing_facts_are_refused(app, case, issue):
    with pytest.raises(documents.DocumentError, match="未知的文书种类"):
        issue("memo", note="x")
    with pytest.raises(documents.DocumentError, match="promised_date"):
        issue("acceptance", materials=[])


def test_a_verification_code_already_taken_is_drawn_again(app, case, issue, monkeypatch):
    first = issue("receipt")
    drawn = iter([first.verification_code, "ABCDEFGHJKLM"])
    monkeypatch.setattr(documents, "_random_code", lambda: next(drawn))
    assert issue("acceptance").verification_code == "ABCDEFGHJKLM"


def test_codes_are_found_however_they_are_typed(app, case, issue):
    document = issue("receipt")
    typed = documents.format_code(document.verification_code).lower().replace("-", " - ")
    with app.app_context():
        assert documents.find_by_code(db.session, typed).id == document.id
        assert documents.find_by_code(db.session, "0000-0000-0000") is None
        assert documents.find_by_code(db.session, "") is None


# --- PDF -------------------------------------------------------------------------------


def test_the_pdf_is_a_real_pdf_with_the_noto_sans_sc_font_embedded(app, case, issue):
    document = issue("acceptance")
    content = pdf_of(app, document)
    assert content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = text_without_spaces("".join(page.extract_text() for page in reader.pages))
    assert "受理通知书" in text and case.number in text and "决定予以受理" in text
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        family = re.sub(r"[^A-Za-z]", "", str(font["/BaseFont"]).split("+")[-1])
        assert family.startswith("NotoSansSC"), font["/BaseFont"]
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor


def test_pdfs_render_from_several_threads_at_once(app, case, issue):
    document = issue("refusal")
    results, errors = [], []

    def render():
        try:
            results.append(pdf_of(app, document))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 4
    assert all(r.startswith(b"%PDF-") for r in results)


def test_without_the_font_the_pdf_says_what_to_install_and_the_page_still_prints(
    app, case, issue, client, monkeypatch, tmp_path
):
    document = issue("acceptance")
    monkeypatch.setattr(pdf, "FONT_PACKAGE", tmp_path / "missing")
    monkeypatch.setattr(pdf, "_FONTS", {})
    with pytest.raises(pdf.PdfUnavailable, match="npm install"):
        pdf_of(app, document)
    login(client, "v11_window_clerk")
    base = f"/cases/{case.number}/documents/{document.id}"
    assert client.get(base).status_code == 200
    response = client.get(base + ".pdf")
    assert response.status_code == 503
    assert "npm install" in response.get_data(as_text=True)


# --- the staff pages ---------------------------------------------------------------


def login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": username, "password": f"pw-{username}", "csrf_token": token}
    )
    assert response.status_code == 302


def test_the_receiving_window_prints_the_page_and_downloads_the_pdf(app, case, issue, client):
    document = issue("acceptance")
    login(client, "v11_window_clerk")
    base = f"/cases/{case.number}/documents/{document.id}"
    page = client.get(base)
    assert page.status_code == 200
    assert "受理通知书" in page.get_data(as_text=True)
    assert "private" in page.headers["Cache-Control"]
    response = client.get(base + ".pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline") and f"{case.number}-acceptance.pdf" in disposition
    assert response.data.startswith(b"%PDF-")
    assert client.get(f"/cases/{case.number}/documents/{document.id + 99}").status_code == 404


def test_a_clerk_of_another_township_is_refused_and_visitors_must_log_in(app, case, issue, client):
    document = issue("acceptance")
    base = f"/cases/{case.number}/documents/{document.id}"
    anonymous = client.get(base)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.get(base + ".pdf").status_code == 302
    login(client, "t2_window_clerk")
    assert client.get(base).status_code == 403
    assert client.get(base + ".pdf").status_code == 403


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("v11_window_clerk", True),  # received it
        ("t1_window_clerk", True),  # the township around the village
        ("center_window_clerk", True),  # the county center
        ("center_inspector", True),
        ("city_jw_inspector", True),
        ("bigdata_designer", True),  # instances.manage
        ("v12_window_clerk", False),  # the neighbouring village
        ("t2_window_clerk", False),
        ("scj_reviewer", False),  # nothing routed to them: the case has no process yet
    ],
)
def test_who_may_see_a_case_without_a_process(app, case, username, allowed):
    with app.app_context():
        from app.auth.services import find_user

        found = db.session.get(Case, case.id)
        assert can_view_case(db.session, find_user(db.session, username), found) is allowed


# --- the public verification page --------------------------------------------------


def verify_form(client, code: str, **kwargs):
    page = client.get("/verify/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/verify/", data={"code": code, "csrf_token": token}, **kwargs)


def test_anyone_can_verify_a_notice_by_its_code_and_sees_no_identity_numbers(
    app, case, issue, client
):
    document = issue("acceptance")
    typed = documents.format_code(document.verification_code).lower()
    response = verify_form(client, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for shown in (
        "验证通过",
        "受理通知书",
        case.number,
        "周*华",
        "110105********002X",
        "食品经营许可",
    ):
        assert shown in page, shown
    assert "2026年10月22日" in page  # the promised date
    assert ID_NUMBER not in page and PHONE not in page and "139****5678" not in page
    link = client.get(f"/verify/{document.verification_code.lower()}")
    assert link.status_code == 200 and "验证通过" in link.get_data(as_text=True)


def test_the_correction_notice_shows_every_missing_material_when_verified(app, case, issue, client):
    document = issue("correction")
    page = client.get(f"/verify/{document.verification_code}").get_data(as_text=True)
    assert "营业执照、健康证明" in page


def test_wrong_codes_are_throttled_per_address_until_the_window_passes(app, case, issue, client):
    app.config.update(VERIFY_MAX_FAILURES=10, VERIFY_WINDOW_SECONDS=60)
    clock = [1000.0]
    app.extensions["verify_throttle"] = Throttle(clock=lambda: clock[0])
    document = issue("acceptance")
    for n in range(10):
        wrong = client.get(f"/verify/ZZZZ-ZZZZ-ZZ{n + 2}Z")
        assert wrong.status_code == 404
        assert "未找到" in wrong.get_data(as_text=True)
    right = client.get(f"/verify/{document.verification_code}")
    assert right.status_code == 429
    assert "查询过于频繁，请 1 分钟后再试" in right.get_data(as_text=True)
    assert verify_form(client, document.verification_code).status_code == 429
    other = app.test_client()
    assert (
        other.get(
            f"/verify/{document.verification_code}", environ_base={"REMOTE_ADDR": "10.0.0.2"}
        ).status_code
        == 200
    )
    clock[0] += 61
    assert client.get(f"/verify/{document.verification_code}").status_code == 200


def test_an_empty_code_asks_for_one_without_counting(app, client):
    response = verify_form(client, "  ")
    assert response.status_code == 400
    assert "请输入文书上的验证码" in response.get_data(as_text=True)
