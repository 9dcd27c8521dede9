"""资料共享库 for the applicant: only their own entries, only once verified, with consent."""

from __future__ import annotations

from sqlalchemy import select

from app.cases import library
from app.models.applicants import Applicant
from app.models.library import LibraryEntry
from workflows.timeutil import utcnow

from ..cases.test_library import PDF, business_change, workshop_missing
from ..cases.test_window_pages import ID_NUMBER, case_of, window
from .test_accounts import OTHER_PERSON_ID, PERSON_ID, register, token

assert PERSON_ID == ID_NUMBER  # the window's applicant is the portal's person


def verify(session, number: str) -> None:
    applicant = session.scalars(select(Applicant).where(Applicant.id_number == number)).one()
    applicant.verified_at, applicant.verified_by = utcnow(), "center_clerk"
    session.commit()


def kept(app, session) -> list[LibraryEntry]:
    business_change(app, window(app), session)
    session.expire_all()
    return list(session.scalars(select(LibraryEntry).order_by(LibraryEntry.id)))


def consent(client, entry_id: int, wanted: str):
    return client.post(
        f"/portal/library/{entry_id}/consent",
        data={"consent": wanted, "csrf_token": token(client, "/portal/library")},
    )


def test_anonymous_visitors_are_sent_to_login(app):
    client = app.test_client()
    for url in ("/portal/library", "/portal/library/1/file"):
        response = client.get(url)
        assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
    assert client.post("/portal/library/1/consent").status_code in (302, 400)


def test_an_unverified_account_sees_the_explanation_and_no_entry(app, shipped, session, client):
    entries = kept(app, session)
    assert register(client).status_code == 302
    html = client.get("/portal/library").get_data(as_text=True)
    assert 'id="library-unverified"' in html and "实名核验" in html
    assert "经营者身份证件" not in html and 'data-entry="' not in html
    assert client.get(f"/portal/library/{entries[0].id}/file").status_code == 404
    assert consent(client, entries[0].id, "withdraw").status_code == 404


def test_the_applicant_sees_withdraws_and_restores_consent(app, shipped, session, client):
    entries = kept(app, session)
    material, result = (next(e for e in entries if e.kind == k) for k in ("material", "result"))
    register(client)
    verify(session, PERSON_ID)
    html = client.get("/portal/library").get_data(as_text=True)
    assert html.count('data-entry="') == 2
    assert "营业执照" in html and "经营者身份证件" in html and "撤回授权" in html
    assert result.document.verification_code in html
    download = client.get(f"/portal/library/{material.id}/file")
    assert download.status_code == 200 and download.data == PDF
    assert client.get(f"/portal/library/{result.id}/file").status_code == 404  # no file

    response = consent(client, result.id, "withdraw")
    assert response.status_code == 302
    assert "已撤回" in client.get("/portal/library").get_data(as_text=True)
    session.expire_all()
    assert session.get(LibraryEntry, result.id).consent_withdrawn_at is not None
    number = workshop_missing(window(app), session, "营业执照")
    with app.app_context():
        assert library.offers_for_case(session, case_of(session, number)) == {}

    consent(client, result.id, "restore")
    session.expire_all()
    assert session.get(LibraryEntry, result.id).consented
    with app.app_context():
        assert len(library.offers_for_case(session, case_of(session, number))) == 1


def test_a_bad_consent_value_is_refused_and_changes_nothing(app, shipped, session, client):
    entries = kept(app, session)
    register(client)
    verify(session, PERSON_ID)
    response = consent(client, entries[0].id, "maybe")
    assert response.status_code == 302
    assert "请选择撤回授权或恢复授权" in client.get("/portal/library").get_data(as_text=True)
    session.expire_all()
    assert session.get(LibraryEntry, entries[0].id).consented


def test_another_applicant_cannot_see_withdraw_or_download(app, shipped, session, client):
    entries = kept(app, session)
    register(client, id_number=OTHER_PERSON_ID, name="李四")
    verify(session, OTHER_PERSON_ID)
    html = client.get("/portal/library").get_data(as_text=True)
    assert 'id="library-empty"' in html and 'data-entry="' not in html
    for entry in entries:
        assert client.get(f"/portal/library/{entry.id}/file").status_code == 404
        assert consent(client, entry.id, "withdraw").status_code == 404
    session.expire_all()
    assert all(session.get(LibraryEntry, e.id).consented for e in entries)
