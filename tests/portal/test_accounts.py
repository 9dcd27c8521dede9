"""Applicants' accounts on the portal: registration, login, their own pages, and the
window's one-time password; never mixed with a staff session."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models.applicants import Applicant, ApplicantIdentity

from ..conftest import CSRF, DEMO_PASSWORD, signed_in

PERSON_ID = "11010519491231002X"
OTHER_PERSON_ID = "440524188001010014"
COMPANY_CODE = "91350100M000100Y43"
PASSWORD = "qingshan-2026"


def token(client, path: str) -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def register(client, **fields):
    data = {
        "kind": "person",
        "name": "张三",
        "id_number": PERSON_ID,
        "phone": "13800138000",
        "password": PASSWORD,
        **fields,
    }
    data.setdefault("csrf_token", token(client, "/portal/register"))
    return client.post("/portal/register", data=data)


def login(client, number=PERSON_ID, password=PASSWORD):
    return client.post(
        "/portal/login",
        data={
            "id_number": number,
            "password": password,
            "csrf_token": token(client, "/portal/login"),
        },
    )


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def person(app, client):
    response = register(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    return client


def test_a_person_registers_sees_their_profile_logs_out_and_in_again(person, session):
    profile = person.get("/portal/me").get_data(as_text=True)
    assert "张三" in profile and PERSON_ID in profile and "个人" in profile
    identity = session.scalars(select(ApplicantIdentity)).one()
    assert (identity.provider, identity.subject) == ("password", PERSON_ID)
    assert identity.password_hash.startswith("$argon2")

    person.post("/portal/logout", data={"csrf_token": token(person, "/portal/")})
    assert person.get("/portal/me").status_code == 302
    assert login(person, PERSON_ID.lower()).status_code == 302
    assert "张三" in person.get("/portal/me").get_data(as_text=True)


def test_a_company_registers_with_its_credit_code_and_legal_person(app, client, session):
    response = register(
        client,
        kind="company",
        name="青山县示范食品有限公司",
        id_number=COMPANY_CODE,
        legal_person="李四",
        contact="王五",
    )
    assert response.status_code == 302
    company = session.scalars(select(Applicant)).one()
    assert (company.kind, company.legal_person, company.contact) == ("company", "李四", "王五")


def test_bad_registrations_are_told_in_chinese_and_keep_what_was_typed(app, client, session):
    cases = [
        ({"id_number": "110105194912310021"}, "身份证号码校验位不正确"),
        (
            {"kind": "company", "id_number": "91350100M000100Y44", "legal_person": "李四"},
            "统一社会信用代码校验位不正确",
        ),
        ({"kind": "company", "id_number": COMPANY_CODE}, "请填写法定代表人姓名"),
        ({"name": "张" * 101}, "最多 100 个字"),
        ({"phone": "12345"}, "请填写手机号码"),
        ({"password": "short"}, "密码至少 8 位"),
    ]
    for fields, message in cases:
        response = register(client, **fields)
        page = response.get_data(as_text=True)
        assert response.status_code == 400, fields
        assert message in page, (fields, page[-2000:])
        assert 'value="13800138000"' in page or "phone" in fields  # nothing typed is lost
    assert count(session, Applicant) == 0

    assert register(client).status_code == 302
    other = client.application.test_client()
    duplicate = register(other, name="另一个人")
    assert duplicate.status_code == 400 and "该身份证号码已注册" in duplicate.get_data(as_text=True)
    assert count(session, Applicant) == 1


def test_forms_without_the_csrf_token_are_refused(app, client, session):
    assert register(client, csrf_token="").status_code == 400
    assert count(session, Applicant) == 0
    response = client.post("/portal/login", data={"id_number": PERSON_ID, "password": PASSWORD})
    assert response.status_code == 400


def test_registration_is_throttled_per_address(app, client, session):
    app.config["PORTAL_REGISTRATIONS"] = 2
    for number in (PERSON_ID, OTHER_PERSON_ID):
        register(app.test_client(), id_number=number)
    third = register(client, id_number=COMPANY_CODE, kind="company", legal_person="李四")
    assert third.status_code == 429 and "注册过于频繁" in third.get_data(as_text=True)
    assert count(session, Applicant) == 2


def test_login_failures_make_the_next_attempts_wait(person, app):
    client = app.test_client()
    statuses = [login(client, password="wrong-password").status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5
    refused = login(client)  # even the right password waits now
    assert refused.status_code == 429 and "登录失败次数过多" in refused.get_data(as_text=True)


def test_anonymous_visitors_read_the_guide_but_not_account_pages(app, client):
    assert client.get("/portal/").status_code == 200
    assert client.get("/portal/register").status_code == 200
    for path in ("/portal/me", "/portal/me/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/portal/login")


def test_an_applicant_reaches_no_staff_page(person):
    for path in ("/desk/", "/cases/", "/items/", "/applicants/reset"):
        response = person.get(path)
        assert response.status_code == 302 and "/login" in response.location, path
        assert "/portal/" not in response.location


def test_a_staff_login_opens_no_applicant_page(shipped, app, person):
    clerk = signed_in(app, "center_clerk", DEMO_PASSWORD)
    assert clerk.get("/portal/me").status_code == 302
    assert clerk.get("/portal/").status_code == 200  # the guide is public
    # logging in as an applicant in a staff session ends the staff login
    login(clerk)
    assert clerk.get("/portal/me").status_code == 200
    assert clerk.get("/desk/").status_code == 302


def test_a_staff_login_after_an_applicant_ends_the_applicant_login(shipped, app, person):
    page = person.get("/login").get_data(as_text=True)
    person.post(
        "/login",
        data={
            "username": "center_clerk",
            "password": DEMO_PASSWORD,
            "csrf_token": CSRF.search(page).group(1),
        },
    )
    assert person.get("/portal/me").status_code == 302
    person.post("/logout", data={"csrf_token": token(person, "/portal/login")})
    assert person.get("/portal/me").status_code == 302  # not back after the staff logout


def test_the_window_resets_a_password_that_must_be_changed_at_next_login(shipped, app, person):
    clerk = signed_in(app, "center_clerk", DEMO_PASSWORD)
    page = "/applicants/reset"
    found = clerk.post(page, data={"id_number": PERSON_ID, "csrf_token": token(clerk, page)})
    assert found.status_code == 200 and "110105********002X" in found.get_data(as_text=True)
    done = clerk.post(
        page, data={"id_number": PERSON_ID, "confirm": "1", "csrf_token": token(clerk, page)}
    )
    one_time = re.search(r'font-monospace">([^<]+)<', done.get_data(as_text=True)).group(1)

    applicant = app.test_client()
    assert login(applicant, password=PASSWORD).status_code == 401  # the old one is gone
    assert login(applicant, password=one_time).status_code == 302
    forced = applicant.get("/portal/me")
    assert forced.status_code == 302 and forced.location.endswith("/portal/me/password")
    changed = applicant.post(
        "/portal/me/password",
        data={
            "current": one_time,
            "new": "new-password-1",
            "csrf_token": token(applicant, "/portal/me/password"),
        },
    )
    assert changed.status_code == 302
    assert applicant.get("/portal/me").status_code == 200

    unknown = clerk.post(
        page, data={"id_number": OTHER_PERSON_ID, "csrf_token": token(clerk, page)}
    )
    assert "没有以该证件号码注册的申请人账户" in unknown.get_data(as_text=True)


def test_only_window_clerks_and_administrators_reset_passwords(shipped, app):
    handler = signed_in(app, "scj_reviewer", DEMO_PASSWORD)
    assert handler.get("/applicants/reset").status_code == 403


def test_an_applicant_sees_only_their_own_account(person, app):
    other = app.test_client()
    assert register(other, name="李四", id_number=OTHER_PERSON_ID).status_code == 302
    mine = other.get("/portal/me").get_data(as_text=True)
    assert "李四" in mine and OTHER_PERSON_ID in mine
    assert "张三" not in mine and PERSON_ID not in mine
    assert "张三" in person.get("/portal/me").get_data(as_text=True)
