"""Every route, walked as each role: who gets 403, who gets in, and who must log in first."""

from __future__ import annotations

import re

import pytest

from app.policy import capabilities

from .conftest import api_for, make_user

PUBLIC = {
    "static",
    "vendor",
    "auth.login",
    "auth.logout",
    "auth.home",
    "verify.index",
    "verify.code",
    "verify.case",
    # the applicants' portal: public or the applicant's own login (tests/portal)
    "portal.home",
    "portal.guides",
    "portal.guide",
    "portal.material_file",
    "portal.register",
    "portal.login",
    "portal.logout",
    "portal.profile",
    "portal.password",
    "portal.apply",
    "portal.package_guide",
    "portal.apply_package",
    "portal.package_case",
    "portal.application",
    "portal.delete_application",
    "portal.draft_file",
    "portal.cases",
    "portal.link_case",
    "portal.case",
    "portal.correction",
    "portal.supplement",
    "portal.case_file",
    "portal.document",
    "portal.library",
    "portal.library_consent",
    "portal.library_file",
    "portal.rate",
    "portal.complaint",
    "portal.cannot_do",
    "feedback.results",
    "feedback.rate",
    "feedback.rate_submit",
}
ROLE_USERS = {
    "admin": "bigdata_admin",
    "designer": "bigdata_designer",
    "inspector": "center_inspector",
    "window_clerk": "v11_window_clerk",
    "handler": "scj_handler",
    "reviewer": "scj_reviewer",
    "deputy_leader": "scj_deputy_leader",
    "chief_leader": "scj_chief_leader",
    "no_post": "nobody",
}


def routes(app):
    """(endpoint, method, url) for every route, with 1 for each URL argument."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)  # the first allowed value
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", url)
        yield rule.endpoint, method, url


def test_every_route_declares_the_capability_it_needs(app):
    missing = [
        e for e, _m, _u in routes(app) if not hasattr(app.view_functions[e], "required_capability")
    ]
    assert missing == []


def login(client, username: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"username": username, "password": f"pw-{username}", "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get("/account/password").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.sqlite_only  # the policy by post: the same on both databases
@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_route_matrix(app, county, role):
    from app.extensions import db

    username = ROLE_USERS[role]
    if role == "no_post":
        make_user(app, username, password=f"pw-{username}")
    with app.app_context():
        from app.auth.services import find_user

        allowed = capabilities(find_user(db.session, username))
    page_client = app.test_client()
    csrf = login(page_client, username)
    make_user(app, "decoy")  # token #1, which the matrix's POST to revoke token 1 may hit
    api = api_for(app, username)
    wrong = []
    for endpoint, method, url in routes(app):
        needed = app.view_functions[endpoint].required_capability
        if url.startswith("/api/"):
            response = api.client.open(url, method=method, headers=api.headers, json={})
        else:
            data = {"csrf_token": csrf} if method == "POST" else None
            response = page_client.open(url, method=method, data=data)
        forbidden = response.status_code == 403
        if forbidden == (needed in allowed):
            wrong.append((endpoint, method, response.status_code, needed))
    assert wrong == []


def test_anonymous_visitors_are_sent_to_login_or_refused(app):
    client = app.test_client()
    for _endpoint, method, url in routes(app):
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        elif method == "GET":
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        else:
            assert response.status_code in (302, 400), url  # no session, no CSRF token
