"""Every page speaks Chinese in the user's terms: no English word, internal id,
region code or raw JSON in what each role reads (the demo county, a case of the
户外广告 item taken through 补正, review, 会签 and 签批, one page per route)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.desk import WorkItem

from .cases.test_window_pages import (
    AD,
    case_of,
    do,
    first_review,
    intake,
    received,
    window,
)
from .words import foreign_words

pytestmark = pytest.mark.sqlite_only  # what pages say does not depend on the database

ROLES = (
    "center_clerk",
    "v0101_clerk",
    "zjj_handler",
    "scj_reviewer",
    "zjj_deputy",
    "center_inspector",
    "bigdata_designer",
    "bigdata_admin",
)
# Pages for people who draw diagrams may name BPMN elements.
TECHNICAL = ("/designer/", "/api/")
# Account and region administration shows login names and region codes: they are
# what the administrator types and what the statistics bureau publishes.
ADMIN_DATA = {"/org/users": ("程序内部名称", "英文: 'admin'"), "/org/regions": ("区划代码",)}


def plain_pages(app) -> list[str]:
    """Every GET page that takes no argument."""
    rules = []
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.arguments
            or rule.rule.startswith(("/api/", "/static"))
        ):
            continue
        rules.append(rule.rule)
    return sorted(set(rules))


def object_pages(session, number: str) -> list[str]:
    case = case_of(session, number)
    pages = [f"/cases/{number}", f"/designer/instances/{case.instance_id}"]
    items = session.scalars(select(WorkItem.id).where(WorkItem.instance_id == case.instance_id))
    pages += [f"/desk/items/{item}" for item in items]
    return pages


def scan(app, username: str, pages: list[str]) -> dict[str, list[str]]:
    client = window(app, username)
    offenders: dict[str, list[str]] = {}
    for page in pages:
        response = client.get(page)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        if page.startswith(TECHNICAL):
            continue
        words = [
            w
            for w in foreign_words(response.get_data(as_text=True))
            if not w.startswith(ADMIN_DATA.get(page, ()))
        ]
        if words:
            offenders[page] = words
    return offenders


@pytest.mark.slow
def test_every_role_reads_only_chinese_in_its_own_terms(app, shipped, session):
    clerk = window(app)
    number = received(intake(clerk, session, "ZJJ-HWGG-SZSP", "accept", extra=AD))
    first_review(app, session, number)
    midway = object_pages(session, number)
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
    guides = ["/portal/guides/ZJJ-HWGG-SZSP", "/portal/guides/SCJ-GZJJCS-LHSC"]
    pages = plain_pages(app) + midway + object_pages(session, number) + guides
    found = {}
    for username in ROLES:
        for page, words in scan(app, username, pages).items():
            found[f"{username} {page}"] = words
    report = "\n".join(f"{where}: {w}" for where, words in found.items() for w in words[:8])
    assert not found, report
    assert re.fullmatch(r"\d{19}", number)


def test_an_uploaded_file_name_is_the_users_own_but_a_word_next_to_it_is_not():
    found = foreign_words("<p>营业执照（扫描件.pdf）</p><p>已上传：照片.JPG upload</p>")
    assert found == ["英文: 'upload' in '已上传：照片.JPG upload'"]
