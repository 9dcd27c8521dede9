"""In a real browser, each person sees exactly the work routed to them, and nothing else."""

from __future__ import annotations

import pytest

from ..conftest import api_for
from ..routing.test_routing import REPORT_UP
from .conftest import login

# pages in a browser, the same on both databases: run with SQLite (the flows' own tests
# run on both)
pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def worklist(page) -> set[tuple[str, str]]:
    """(instance, step) pairs shown in the worklist table."""
    rows = page.locator("#worklist tbody tr[data-item]")
    return {
        (rows.nth(i).get_attribute("data-instance"), rows.nth(i).get_attribute("data-bpmn"))
        for i in range(rows.count())
    }


def test_each_person_sees_only_their_work(app, api, county, live_server, new_page):
    api.deploy(("report_up.bpmn", REPORT_UP))
    east = api.start("report_up", {"place": county.code("v11")}).get_json()["id"]
    river = api.start("report_up", {"place": county.code("v21")}).get_json()["id"]
    api_for(app, "v21_window_clerk").complete(api.open_items(river)["accept"], {"ok": True})

    expected = {
        "v11_window_clerk": {(str(east), "accept")},
        "v12_window_clerk": set(),
        "v21_window_clerk": set(),
        "t1_reviewer": set(),
        "t2_reviewer": {(str(river), "township")},
        "zrzy_kc_reviewer": set(),
        "scj_reviewer": set(),
    }
    for username, work in expected.items():
        page = new_page()
        login(page, live_server, username, f"pw-{username}")
        page.goto(f"{live_server}/desk/")
        assert worklist(page) == work, username
        assert page.locator("#open-count").inner_text() == str(len(work))

    page = new_page()
    login(page, live_server, "v11_window_clerk", "pw-v11_window_clerk")
    page.goto(f"{live_server}/desk/")
    page.click(f"#worklist tr[data-instance='{east}'] button:has-text('认领')")
    assert "已认领" in page.content()
    assert page.locator("#worklist").get_by_text("我已认领").count() == 1


def test_an_inspector_sees_cases_of_their_region_only(app, api, county, live_server, new_page):
    api.deploy(("report_up.bpmn", REPORT_UP))
    ours = api.start("report_up", {"place": county.code("v11")}).get_json()["id"]
    page = new_page()
    login(page, live_server, "center_inspector", "pw-center_inspector")
    assert page.url.endswith("/supervision/")
    assert page.locator("#instance-count").inner_text() == "1"
    rows = page.locator("#instances tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-instance") == str(ours)
    assert "东关村" in rows.first.inner_text()  # the place by its name, not its code
    page.goto(f"{live_server}/desk/")
    assert "403" in page.content()
