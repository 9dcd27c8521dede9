"""Helpers of the organisation tests: an administrator's browser, CSRF tokens, staff rows."""

from __future__ import annotations

import re

import pytest

from app.models.auth import User

from ..conftest import make_user

CSRF = re.compile(r'name="([\w-]*csrf_token)"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    return CSRF.search(html).group(2)


def csrf_fields(html: str) -> dict[str, str]:
    """Every CSRF field of a page (forms with a prefix name theirs ``<prefix>-csrf_token``)."""
    return dict(CSRF.findall(html))


def login(client, username: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_token(page)}
    )


NONCE = re.compile(r'name="([\w-]*nonce)"[^>]*value="([^"]+)"')


def submit(client, url: str, data: dict, page: str | None = None):
    """POST ``data`` to ``url`` with the CSRF token (and a create form's one-time nonce)
    read from ``page`` (default: ``url``)."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, **csrf_fields(html), **dict(NONCE.findall(html))})


def staff(session, username: str, name: str | None = None, **fields) -> User:
    """A user row without a real password (argon2 is slow; these never log in)."""
    user = User(username=username, display_name=name or username, password_hash="-", **fields)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def admin(app, client):
    """The test client, logged in as the administrator ``root``."""
    make_user(app, "root", admin=True, password="root-password")
    assert login(client, "root", "root-password").status_code == 302
    return client
