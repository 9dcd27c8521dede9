"""In a real browser, a reviewer fills a task form, is told what is missing, and the case moves on."""

from __future__ import annotations

import pytest

from ..conftest import SHIPPED, api_for, bundle
from .conftest import login
from .test_demo_county import REGISTER

# pages in a browser, the same on both databases: run with SQLite (the flows' own tests
# run on both)
pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_reviewer_returns_the_case_for_correction_after_fixing_the_form(
    app, api, county, live_server, new_page
):
    assert api.deploy(*bundle(SHIPPED / "mineral_permit")).status_code == 201
    instance_id = api.start("mineral_permit", {"place": county.code("v11")}).get_json()["id"]
    register = api.open_items(instance_id)["Task_Register"]
    assert api_for(app, "v11_window_clerk").complete(register, REGISTER).status_code == 200

    page = new_page()
    login(page, live_server, "t1_reviewer", "pw-t1_reviewer")
    page.goto(f"{live_server}/desk/")
    page.click(f"#worklist tr[data-instance='{instance_id}'] a:has-text('乡镇初审')")
    assert "周建华" in page.locator("#case-summary").inner_text()
    page.get_by_label("退回补正").check()
    page.click("#phrases button:has-text('材料不全，请补正。')")
    assert page.input_value("#opinion") == "材料不全，请补正。"
    page.fill("#opinion", "选址离水源地过近，")
    page.click("#save-phrase")  # kept as my own 常用意见 without leaving the form
    page.wait_for_selector("#phrases button[data-phrase='选址离水源地过近，']")
    assert page.inner_text("#save-phrase") == "已保存为常用意见。"
    assert page.input_value("#opinion") == "选址离水源地过近，"
    page.fill("#opinion", "")
    page.click("#phrases button:has-text('材料不全，请补正。')")
    page.fill("#review_date", "2026-11-23")
    page.click("button:has-text('提交')")

    correction = page.locator("[data-field=correction_items]")
    assert "此项为必填项" in correction.locator(".invalid-feedback").inner_text()
    assert "is-invalid" in page.get_attribute("#correction_items", "class")
    assert page.input_value("#opinion") == "材料不全，请补正。"
    assert page.is_checked("input[name=decision][value=return]")
    page.fill("#correction_items", "请补交加工厂选址意见书和环评批复。")
    page.click("button:has-text('提交')")
    assert "已办理：乡镇初审" in page.content()
    assert page.locator(f"#worklist tr[data-instance='{instance_id}']").count() == 0

    clerk = new_page()
    login(clerk, live_server, "v11_window_clerk", "pw-v11_window_clerk")
    clerk.goto(f"{live_server}/desk/")
    row = clerk.locator(f"#worklist tr[data-instance='{instance_id}']")
    assert row.get_attribute("data-bpmn") == "Task_Register"
    row.locator("a:has-text('受理登记')").click()
    asked = clerk.locator("[data-field=correction_items]").inner_text()
    assert "请补交加工厂选址意见书和环评批复。" in asked
    assert "材料不全，请补正。" in clerk.locator("#task-history").inner_text()
