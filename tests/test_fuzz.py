"""A fuzz corpus against every API endpoint and a few page forms: hostile input is a 4xx
with a Chinese message, never a 500, and nothing is stored."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from app.extensions import db

from .cases.test_intake import item  # noqa: F401  (fixture: a deployed, published item)
from .conftest import CSRF, signed_in

HUGE_ID = 2**63  # one past what a BIGINT holds
NESTED = '{"data": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
BODIES = [
    NESTED,
    "[" * 1000 + "]" * 1000,
    json.dumps({"applicant": "x", "materials": 5, "item_code": "TEST-001", "place": "x"}),
    json.dumps({"applicant": {"name": ["x"]}, "materials": [{"a": 1}], "data": "x"}),
    '{"reason": "\\ud800", "data": {"opinion": "\\udfff"}, "process_id": "\\ud800"}',
    json.dumps({"version": HUGE_ID, "data": {}}),
    json.dumps({"version": -1, "process_id": {"a": 1}, "to": {}, "target": 5}),
    json.dumps({"step": [1], "signer": {"x": 1}, "reason": "x" * 100_000}),
    json.dumps({"data": {"opinion": "周" * 100_000}, "version": 1}),
    json.dumps({"answer": None, "action": {"x": 1}, "channel": [1], "green_channel": "x"}),
    "not json",
    '"just a string"',
]
ZH = re.compile(r"[\u4e00-\u9fff]")


def api_paths(app) -> list[tuple[str, str]]:
    """Every /api/v1 rule with its methods, each id once ordinary and once too large."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for value in (1, HUGE_ID):
            path = re.sub(r"<int:[a-z_]+>", str(value), rule.rule)
            path = re.sub(r"<[a-z_]+>", "1", path)
            found += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(set(found))


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables
        }


def answer_ok(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400 and response.is_json:
        assert ZH.search(response.get_json()["error"]["message"])


def test_the_api_answers_every_hostile_body_with_a_4xx_and_stores_nothing(
    app,
    api,
    item,  # noqa: F811
    county,
):
    before = row_counts(app)
    for method, path in api_paths(app):
        for body in BODIES:
            response = api.client.open(
                path,
                method=method,
                data=body,
                headers={**api.headers, "Content-Type": "application/json"},
            )
            answer_ok(response)
            if str(HUGE_ID) in path:
                assert response.status_code in (404, 405), (method, path)
    for query in ("limit=99999999999999999999", "offset=-99999999999999999999", "instance=10**20"):
        answer_ok(api.get("/api/v1/work-items?" + query))
    for files in (
        [("form.json", b'{"title": "\\ud800", "type": "object"}')],
        [("form.json", NESTED.encode())],
        [("x.bpmn", b'<?xml version="1.0"?><a xmlns="\xed\xa0\x80"/>')],
    ):
        answer_ok(api.deploy(*files))
    after = row_counts(app)
    assert after == before


def test_pages_answer_hostile_numbers_and_characters_with_a_4xx(app, county):
    admin = signed_in(app, "bigdata_admin")
    before = row_counts(app)
    for path in (
        f"/desk/items/{HUGE_ID}",
        f"/desk/copies/{HUGE_ID}",
        f"/org/users/{HUGE_ID}",
        "/cases/?page=100000000000000000000",
        "/cases/?page=9223372036854775807",
        "/desk/?page=9223372036854775807",
        "/org/users?page=9223372036854775807",
        "/supervision/?page=9223372036854775807&region=99999999999999999999",
        "/notifications/?page=9223372036854775807",
        "/items/?page=9223372036854775807",
        "/org/calendar?year=-1",
        "/org/calendar?year=99999",
        "/cases/intake?item=99999999999999999999",
    ):
        response = admin.get(path)
        assert response.status_code < 500, path
        if response.status_code >= 400:
            assert ZH.search(response.get_data(as_text=True)), path
    calendar = admin.get("/org/calendar").get_data(as_text=True)
    token = CSRF.search(calendar).group(1)
    for path, form in (
        ("/org/calendar", f"csrf_token={token}&lines=%ED%A0%80&year=-1"),
        ("/cases/intake", f"csrf_token={token}&item=99999999999999999999&applicant_name=%ED%A0%80"),
        (f"/desk/items/{HUGE_ID}", f"csrf_token={token}&version=99999999999999999999"),
    ):
        response = admin.post(path, data=form, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, path
    assert row_counts(app) == before
