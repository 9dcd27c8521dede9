"""Logging in: throttling, CSRF, secure cookies, changing one's password."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app

from ..conftest import make_user


def csrf(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def attempt(client, username, password, ip="127.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf(client)},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_failed_logins_are_throttled_with_a_clear_message(app, client):
    make_user(app, "clerk", password="right-password")
    for n in range(5):
        response = attempt(client, "clerk", f"wrong-{n}")
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.get_data(as_text=True)
    blocked = attempt(client, "clerk", "right-password")
    assert blocked.status_code == 429
    assert "分钟后再试" in blocked.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302  # still not logged in


def test_an_attackers_failures_at_one_address_do_not_stop_admin_at_another(app):
    make_user(app, "admin", admin=True, password="the-real-password")
    attacker = app.test_client()
    answers = [attempt(attacker, "admin", f"guess-{n}", ip="203.0.113.9") for n in range(30)]
    assert answers[-1].status_code == 429
    admin = attempt(app.test_client(), "admin", "the-real-password", ip="10.0.0.5")
    assert admin.status_code == 302


def test_behind_a_proxy_clients_are_told_apart_by_their_forwarded_address(app):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # what YIMEN_PROXY_HOPS=1 sets up
    make_user(app, "admin", admin=True, password="the-real-password")
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def through_proxy(client, password, client_address):
        return client.post(
            "/login",
            data={"username": "admin", "password": password, "csrf_token": csrf(client)},
            environ_base=proxy,
            headers={"X-Forwarded-For": client_address},
        )

    attacker = app.test_client()
    answers = [through_proxy(attacker, f"guess-{n}", "203.0.113.9") for n in range(8)]
    assert answers[-1].status_code == 429
    assert through_proxy(app.test_client(), "the-real-password", "198.51.100.7").status_code == 302


def test_the_proxy_hops_come_from_the_environment(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("YIMEN_PROXY_HOPS", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": tmp_path})
    assert isinstance(app.wsgi_app, ProxyFix) and app.wsgi_app.x_for == 1


def test_a_failing_address_waits_longer_each_time_and_is_free_again_by_time(app, client):
    make_user(app, "clerk", password="right-password")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        for n in range(5):
            assert attempt(client, "clerk", f"wrong-{n}").status_code == 200
        first = attempt(client, "clerk", "right-password")
        assert first.status_code == 429 and "1 分钟后再试" in first.get_data(as_text=True)
        clock.shift(timedelta(seconds=61))
        assert attempt(client, "clerk", "wrong-again").status_code == 200
        second = attempt(client, "clerk", "right-password")
        assert second.status_code == 429 and "2 分钟后再试" in second.get_data(as_text=True)
        clock.shift(timedelta(seconds=121))
        assert attempt(client, "clerk", "right-password").status_code == 302


def test_guessing_one_username_from_many_addresses_only_slows_it_for_seconds(app):
    make_user(app, "admin", admin=True, password="the-real-password")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        for n in range(40):
            attempt(app.test_client(), "admin", f"guess-{n}", ip=f"198.51.100.{n}")
        slowed = attempt(app.test_client(), "admin", "the-real-password", ip="10.0.0.5")
        assert slowed.status_code == 429 and "秒后再试" in slowed.get_data(as_text=True)
        clock.shift(timedelta(seconds=30))
        assert (
            attempt(app.test_client(), "admin", "the-real-password", ip="10.0.0.5").status_code
            == 302
        )


def test_throttled_logins_are_recorded_in_the_audit_chain(app, client, session):
    from app.audit.chain import verify
    from app.models.audit import AuditEntry

    make_user(app, "clerk", password="right-password")
    for n in range(5):
        attempt(client, "clerk", f"wrong-{n}", ip="203.0.113.9")
    entries = session.query(AuditEntry).filter_by(source="auth", action="login_throttled").all()
    assert len(entries) == 1
    assert "203.0.113.9" in entries[0].message and entries[0].subject == "用户 clerk"
    assert verify(session)[1] is None


def test_unknown_users_and_wrong_passwords_get_the_same_answer(app, client):
    make_user(app, "clerk", password="right-password")
    unknown = attempt(client, "ghost", "whatever").get_data(as_text=True)
    wrong = attempt(client, "clerk", "whatever").get_data(as_text=True)
    assert "用户名或密码不正确" in unknown and "用户名或密码不正确" in wrong


def test_login_without_csrf_token_is_refused(app, client):
    make_user(app, "clerk", password="right-password")
    response = client.post("/login", data={"username": "clerk", "password": "right-password"})
    assert response.status_code == 400
    assert client.get("/account/password").status_code == 302


def test_session_cookie_is_secure_and_http_only_by_default(database_url, tmp_path, monkeypatch):
    monkeypatch.delenv("YIMEN_SECURE_COOKIES", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": tmp_path})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    make_user(app, "clerk", password="right-password")
    client = app.test_client()
    response = attempt(client, "clerk", "right-password")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_change_password(app, client):
    make_user(app, "clerk", password="old-password")
    attempt(client, "clerk", "old-password")
    token = csrf(client, "/account/password")
    short = client.post(
        "/account/password",
        data={"current": "old-password", "new": "short", "confirm": "short", "csrf_token": token},
    )
    assert "新密码至少 8 位" in short.get_data(as_text=True)
    wrong = client.post(
        "/account/password",
        data={
            "current": "nope-nope",
            "new": "new-password",
            "confirm": "new-password",
            "csrf_token": token,
        },
    )
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={
            "current": "old-password",
            "new": "new-password",
            "confirm": "new-password",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client, "/account/password")})
    assert attempt(client, "clerk", "new-password").status_code == 302


def test_a_reset_password_must_be_changed_first(app, client, session):
    from app.models.auth import User

    make_user(app, "clerk", password="reset-password", admin=True)
    session.query(User).filter_by(username="clerk").one().must_change_password = True
    session.commit()
    attempt(client, "clerk", "reset-password")
    response = client.get("/designer/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/password")


def login_to(client, next_target, username="clerk", password="right-password"):
    return client.post(
        "/login",
        query_string={"next": next_target},
        data={"username": username, "password": password, "csrf_token": csrf(client)},
    )


@pytest.mark.parametrize(
    "target",
    [
        "/desk/\r\nSet-Cookie: evil=1",
        "/desk/\nLocation: https://evil.example",
        "/desk/\r",
        "/desk/\x00",
        "/desk/\x7f",
        "/desk/\u2028",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        " /desk/",
        "",
    ],
)
def test_a_foreign_or_broken_next_sends_the_person_home(app, client, target):
    make_user(app, "clerk", password="right-password", admin=True)
    response = login_to(client, target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "\r" not in location and "\n" not in location
    assert "Set-Cookie: evil" not in str(response.headers)
    assert location == "/desk/"  # the home of an administrator


def test_a_local_next_is_followed(app, client):
    make_user(app, "clerk", password="right-password", admin=True)
    assert login_to(client, "/org/users?q=a").headers["Location"] == "/org/users?q=a"
