"""On a phone (390×844), an applicant registers on the 网上办事大厅, searches the guide
and opens an item's 办事指南: nothing scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()


def register_on_portal(page, base_url: str, name: str = "张三") -> None:
    """An applicant registers (and is logged in) on the 网上办事大厅."""
    page.goto(f"{base_url}/portal/register")
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", "11010519491231002X")
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=password]", "qingshan-2026")
    page.click("#register-submit")


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


def test_an_applicant_registers_searches_and_reads_a_guide_on_a_phone(
    shipped, live_server, phone, tmp_path
):
    page = phone
    page.goto(f"{live_server}/portal/")
    expect(page.locator("#portal-header")).to_contain_text("青山县政务服务网上办事大厅")
    page.click("#portal-register")
    page.fill("input[name=name]", "张三")
    page.fill("input[name=id_number]", "11010519491231002x")
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=password]", "qingshan-2026")
    assert not scrolls_sideways(page)
    page.click("#register-submit")
    expect(page.locator("#profile")).to_contain_text("11010519491231002X")
    expect(page.locator("#portal-me")).to_have_text("张三")

    page.click(".navbar-brand")
    page.fill("#guide-q", "食品")
    page.click("#guide-search")
    expect(page.locator("#guide-list a")).to_have_count(1)
    page.click("#guide-list a")
    expect(page.locator("h1")).to_have_text("食品小作坊登记")
    expect(page.locator("#guide-materials li").first).to_be_visible()
    expect(page.locator("#guide-place")).to_contain_text("市场监管综合窗口")
    page.screenshot(path=str(tmp_path / "guide.png"), full_page=True)
    assert not scrolls_sideways(page)


def test_an_applicant_applies_online_on_a_phone_and_the_window_sees_it(
    shipped, live_server, phone, tmp_path, new_page
):
    page = phone
    register_on_portal(page, live_server)
    page.goto(f"{live_server}/portal/guides/SCJ-SPXZF-DJ")
    page.click("#guide-apply")
    expect(page.locator("h1")).to_contain_text("在线申报：食品小作坊登记")
    assert not scrolls_sideways(page)

    page.fill("[name=f_workshop_name]", "老周豆腐坊")
    page.click("#application-save")  # 暂存 with one answer, then come back
    expect(page.locator(".alert-success")).to_contain_text("已暂存")
    page.goto(f"{live_server}/portal/cases")
    page.click("#my-drafts a")
    expect(page.locator("[name=f_workshop_name]")).to_have_value("老周豆腐坊")

    page.select_option("#place", label="青山县 / 城关街道 / 东河社区")
    page.fill("[name=f_workshop_address]", "城关街道 3 组")
    page.select_option("[name=f_food_category]", "soy")
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(b"%PDF-1.7\n%%EOF\n")
    for upload in page.locator("#application-materials input[type=file]").all():
        upload.set_input_files(str(scan))
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#application-submit")
    expect(page.locator("#case-stage")).to_have_text("已提交，等待窗口预审")
    number = page.locator("h1 + p").inner_text().split()[1]
    page.screenshot(path=str(tmp_path / "submitted.png"), full_page=True)
    assert not scrolls_sideways(page)

    clerk = new_page()
    login(clerk, live_server, "center_clerk", "demo12345")
    clerk.goto(f"{live_server}/cases/intake")
    expect(clerk.locator(f'#online-queue tr[data-case="{number}"]')).to_be_visible()
