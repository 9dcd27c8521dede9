"""The portal's 好差评 card, 投诉举报 and 办不成事 pages: rated by the case's own applicant
only, filed by an account under its name or by a visitor with a phone number only,
throttled per address and per phone."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models.applicants import Applicant
from app.models.cases import Case
from app.models.feedback import CaseRating

from ..cases.test_window_pages import case_of
from ..feedback.test_ratings import finished_case
from .test_accounts import OTHER_PERSON_ID, register, token

PHONE = "13698765432"


def own(session, number: str, id_number: str | None = None) -> None:
    """The registered applicant's case (linked as 我的办件 would)."""
    query = select(Applicant)
    if id_number:
        query = query.where(Applicant.id_number == id_number)
    applicant = session.scalars(query).first()
    case_of(session, number).applicant_account_id = applicant.id
    session.commit()


def test_the_applicant_rates_a_finished_case_in_my_cases(shipped, app, session, client):
    number = finished_case(app, session)
    assert register(client).status_code == 302
    own(session, number)
    page = client.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert 'id="rating-card"' in page and "非常满意" in page
    csrf = token(client, f"/portal/cases/{number}")
    refused = client.post(f"/portal/cases/{number}/rating", data={"csrf_token": csrf, "level": "2"})
    assert refused.status_code == 422 and "不满意的原因" in refused.get_data(as_text=True)
    done = client.post(
        f"/portal/cases/{number}/rating",
        data={
            "csrf_token": csrf,
            "level": "2",
            "tags": ["材料要求多"],
            "comment": "要了三次复印件",
        },
    )
    assert done.status_code == 302
    page = client.get(f"/portal/cases/{number}").get_data(as_text=True)
    assert "差评整改" in page and "您的评价：<strong>不满意</strong>" in page
    rating = session.scalars(select(CaseRating)).one()
    assert rating.channel == "portal" and rating.rectification.applicant_account_id is not None
    # the rectification shows among the applicant's cases, with its progress
    assert rating.rectification.number in client.get("/portal/cases").get_data(as_text=True)


def test_another_applicant_cannot_rate_someone_elses_case(shipped, app, session):
    number = finished_case(app, session)
    other = app.test_client()
    assert register(other, id_number=OTHER_PERSON_ID, name="李四").status_code == 302
    assert other.get(f"/portal/cases/{number}").status_code == 404
    csrf = token(other, "/portal/cases")
    forged = other.post(f"/portal/cases/{number}/rating", data={"csrf_token": csrf, "level": "1"})
    assert forged.status_code == 404
    anonymous = app.test_client().post(f"/portal/cases/{number}/rating", data={"level": "5"})
    assert anonymous.status_code in (302, 400)
    assert session.scalar(select(func.count(CaseRating.id))) == 0


def file(client, path: str, **form):
    data = {"csrf_token": token(client, path), **form}
    return client.post(path, data=data)


def test_a_visitor_complains_anonymously_and_is_throttled(shipped, app, session):
    visitor = app.test_client()
    page = visitor.get("/portal/complaints").get_data(as_text=True)
    assert "匿名方式提交" in page
    home = visitor.get("/portal/").get_data(as_text=True)
    assert "/portal/complaints" in home and "/portal/cannot-do" in home
    for n in range(5):
        response = file(
            visitor,
            "/portal/complaints",
            phone=PHONE,
            subject_kind="window",
            subject_name=f"{n + 1}号窗口",
            content="午休时间窗口无人。",
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    number = re.search(r'id="voice-number">(\d{19})<', html).group(1)
    case = case_of(session, number)
    assert (case.applicant_name, case.channel, case.applicant_account_id) == (
        "匿名",
        "online",
        None,
    )
    blocked = file(visitor, "/portal/complaints", phone=PHONE, subject_kind="window",
                   subject_name="6号窗口", content="又一次")  # fmt: skip
    assert blocked.status_code == 429 and "提交过于频繁" in blocked.get_data(as_text=True)
    assert "又一次" in blocked.get_data(as_text=True)  # kept
    assert session.scalar(select(func.count(Case.id)).where(Case.applicant_phone == PHONE)) == 5


def test_a_signed_in_applicant_reports_what_could_not_be_done(shipped, app, session, client):
    assert register(client).status_code == 302
    page = client.get("/portal/cannot-do").get_data(as_text=True)
    assert "以 <strong>张三</strong> 的名义提交" in page
    upload = (__import__("io").BytesIO(b"%PDF-1.7\n%%EOF\n"), "现场照片.pdf")
    response = client.post(
        "/portal/cannot-do",
        data={
            "csrf_token": token(client, "/portal/cannot-do"),
            "phone": "",
            "matter": "给老人办理高龄津贴",
            "content": "村里说要到镇里，镇里说要到县里。",
            "attachments": upload,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    number = re.search(r'id="voice-number">(\d{19})<', response.get_data(as_text=True)).group(1)
    case = case_of(session, number)
    assert (case.item.code, case.applicant_name, case.applicant_phone) == (
        "ZX-BBCS", "张三", "13800138000",
    )  # fmt: skip
    assert [m.filename for m in case.materials] == ["现场照片.pdf"]
    assert number in client.get("/portal/cases").get_data(as_text=True)
    bad = client.post(
        "/portal/cannot-do",
        data={"csrf_token": token(client, "/portal/cannot-do"), "matter": "", "content": ""},
    )
    assert bad.status_code == 422 and "请写明想办的事" in bad.get_data(as_text=True)
