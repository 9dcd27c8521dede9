"""In a real browser, on a phone (390×844) and a laptop (1366×768): nothing scrolls
sideways, the worklist's rows become cards that keep 期限, 状态 and 认领 in view, the
menu behind the toggler reaches 消息 and 退出; the UI font is the one served from npm;
the pickers find a colleague by the pinyin initials of their name.

Layout is asserted on metrics (widths, boxes, computed styles), not compared with
stored screenshots: fonts and anti-aliasing differ between machines, metrics do not.
Screenshots are still saved under the test's temporary folder for a person to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..routing.test_routing import REPORT_UP
from .conftest import login

# pages in a browser, the same on both databases: run with SQLite (the flows' own tests
# run on both)
pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
LISTS = ("/desk/", "/desk/done", "/desk/cases", "/desk/copies", "/cases/")
CLERK = "v11_window_clerk"


@pytest.fixture
def sized_page(browser):
    """A fresh context (own cookies) at a viewport size, as a phone or a laptop shows it."""
    contexts = []

    def make(viewport: dict, *, phone: bool):
        context = browser.new_context(
            locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def waiting_work(api, county):
    """One 受理登记 waiting, unclaimed, in the 东关村 window's worklist."""
    api.deploy(("report_up.bpmn", REPORT_UP))
    return api.start("report_up", {"place": county.code("v11")}).get_json()["id"]


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth > window.innerWidth")


def within_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def shoot(page, folder, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("size", "phone"), [(PHONE, True), (LAPTOP, False)], ids=["390", "1366"])
def test_lists_fit_the_screen(waiting_work, live_server, sized_page, tmp_path, size, phone):
    page = sized_page(size, phone=phone)
    login(page, live_server, CLERK, f"pw-{CLERK}")
    for path in LISTS:
        page.goto(f"{live_server}{path}")
        shoot(page, tmp_path, f"{size['width']}{path.replace('/', '_')}")
        assert not scrolls_sideways(page), path
        table = page.locator("table.table-cards")
        assert table.count() == 1, path
        shown = table.locator("thead").evaluate("e => getComputedStyle(e).position")
        assert (shown == "absolute") == phone, path  # the header is the cards' labels


def test_a_waiting_step_is_a_card_with_its_deadline_state_and_claim_on_a_phone(
    waiting_work, live_server, sized_page
):
    page = sized_page(PHONE, phone=True)
    login(page, live_server, CLERK, f"pw-{CLERK}")
    page.goto(f"{live_server}/desk/")
    row = page.locator(f"#worklist tr[data-instance='{waiting_work}']")
    assert row.evaluate("e => getComputedStyle(e).display") == "block"
    for label in ("期限", "状态"):
        cell = row.locator(f"td[data-label='{label}']")
        assert cell.is_visible() and within_viewport(page, cell), label
        before = cell.evaluate("e => getComputedStyle(e, '::before').content")
        assert label in before
    claim = row.get_by_role("button", name="认领")
    assert claim.is_visible() and within_viewport(page, claim)
    assert claim.bounding_box()["y"] < PHONE["height"]  # on the first screen: filters fold
    assert not page.locator("#work-filter").is_visible()
    page.locator("#work-filter-toggle").tap()
    page.locator("#f-step").wait_for(state="visible")
    with page.expect_navigation():
        claim.tap()
    assert "已认领" in page.content()
    assert not scrolls_sideways(page)


def test_the_menu_behind_the_toggler_reaches_messages_and_logout(
    waiting_work, live_server, sized_page, tmp_path
):
    page = sized_page(PHONE, phone=True)
    login(page, live_server, CLERK, f"pw-{CLERK}")
    page.goto(f"{live_server}/desk/")
    toggler = page.locator("#shell-nav .navbar-toggler")
    assert toggler.is_visible() and within_viewport(page, toggler)
    assert not page.locator("#nav-messages").is_visible()
    toggler.tap()
    page.locator("#shell-menu.show").wait_for()
    messages = page.locator("#nav-messages")
    assert messages.is_visible() and within_viewport(page, messages)
    assert within_viewport(page, page.locator("#shell-menu a", has_text="待办").first)
    me = page.locator("#nav-me")
    assert "东关村代办点" in me.inner_text()  # the user's name heads their own menu
    me.tap()
    logout = page.locator("#nav-logout")
    logout.wait_for(state="visible")
    assert within_viewport(page, logout)
    shoot(page, tmp_path, "390_menu")
    assert not scrolls_sideways(page)
    with page.expect_navigation():
        logout.tap()
    assert "/login" in page.url


def test_on_a_laptop_the_menu_shows_without_the_toggler(waiting_work, live_server, sized_page):
    page = sized_page(LAPTOP, phone=False)
    login(page, live_server, "bigdata_admin", "pw-bigdata_admin")  # the longest menu
    page.goto(f"{live_server}/desk/")
    assert not page.locator("#shell-nav .navbar-toggler").is_visible()
    assert page.locator("#shell-nav").bounding_box()["height"] < 70  # one line
    assert page.locator("#f-step").is_visible()
    assert not page.locator("#work-filter-toggle").is_visible()
    assert not scrolls_sideways(page)
    assert page.locator("#nav-messages").is_visible()
    page.locator("#nav-me").click()
    assert page.locator("#nav-logout").is_visible()


def test_pages_are_set_in_the_served_font_with_a_favicon(waiting_work, live_server, sized_page):
    page = sized_page(LAPTOP, phone=False)
    fonts = []
    page.on(
        "response",
        lambda r: "/vendor/@fontsource/noto-sans-sc/files/" in r.url and fonts.append(r.status),
    )
    login(page, live_server, CLERK, f"pw-{CLERK}")
    page.goto(f"{live_server}/desk/")
    loaded = page.evaluate(
        """() => document.fonts.ready.then(() => [...document.fonts]
             .filter(f => f.family.replace(/["']/g, '') === 'Noto Sans SC' && f.status === 'loaded')
             .length)"""
    )
    assert loaded > 0 and fonts and set(fonts) == {200}
    family = page.locator("body").evaluate("e => getComputedStyle(e).fontFamily")
    assert family.startswith('"Noto Sans SC"')
    icon = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    response = page.request.get(f"{live_server}{icon}")
    assert response.status == 200 and "<svg" in response.text()


def test_a_picker_finds_a_colleague_by_the_pinyin_initials_of_their_name(
    county, session, live_server, sized_page
):
    county.users["scj_reviewer"].display_name = "张晓明"
    session.commit()
    fire = county.departments["fire"]
    page = sized_page(LAPTOP, phone=False)
    login(page, live_server, "bigdata_admin", "pw-bigdata_admin")
    page.goto(f"{live_server}/org/departments/{fire.id}")
    row = page.locator("#posts tbody tr", has_text="审核人")
    row.locator(".ts-control input").fill("zxm")
    option = page.locator(".ts-dropdown .option", has_text="张晓明")
    option.wait_for()
    assert "青山县市场监督管理局" in option.inner_text()
    option.click()
    assert row.locator("input[name=username]").input_value() == "scj_reviewer"
    with page.expect_navigation():
        row.get_by_role("button", name="添加").click()
    assert "张晓明（scj_reviewer）已任" in page.locator(".alert-success").inner_text()


def test_a_form_shown_again_names_the_person_chosen_before(
    county, session, live_server, sized_page
):
    county.users["scj_reviewer"].display_name = "张晓明"
    session.commit()
    page = sized_page(LAPTOP, phone=False)
    login(page, live_server, "bigdata_admin", "pw-bigdata_admin")
    page.goto(f"{live_server}/org/backups")
    page.locator("#leave-holder-ts-control").fill("zxm")
    page.locator(".ts-dropdown .option", has_text="张晓明").click()
    with page.expect_navigation():
        page.get_by_role("button", name="请假", exact=True).click()  # no B角: refused
    assert page.locator("#leave-holder").input_value() == "scj_reviewer"
    expect(page.locator("#leave-holder ~ .ts-wrapper .item")).to_have_text("张晓明")


def test_a_multiple_people_picker_keeps_each_chosen_username(
    county, session, live_server, sized_page
):
    """As 抄送 on the task page will use it: a <select multiple> of usernames."""
    county.users["scj_reviewer"].display_name = "张晓明"
    county.users["fire_reviewer"].display_name = "王芳"
    session.commit()
    page = sized_page(PHONE, phone=True)
    login(page, live_server, "t1_window_clerk", "pw-t1_window_clerk")
    page.goto(f"{live_server}/desk/")
    page.evaluate(
        """() => {
        const select = document.createElement("select");
        select.multiple = true; select.id = "trial"; select.dataset.picker = "people";
        document.querySelector("main").prepend(select);
        window.yimenPickers.start(select);
    }"""
    )
    control = page.locator(".ts-wrapper.multi .ts-control input")
    for initials, name in (("zxm", "张晓明"), ("wf", "王芳")):
        control.fill(initials)
        page.locator(".ts-dropdown .option", has_text=name).tap()
    assert page.locator("#trial").evaluate("s => [...s.selectedOptions].map(o => o.value)") == [
        "scj_reviewer",
        "fire_reviewer",
    ]
    assert not scrolls_sideways(page)


def test_a_place_picker_searches_the_path_by_pinyin(county, live_server, sized_page):
    page = sized_page(PHONE, phone=True)
    login(page, live_server, "center_inspector", "pw-center_inspector")
    page.goto(f"{live_server}/supervision/")
    assert not scrolls_sideways(page)
    page.locator("#board-filters .ts-control").first.tap()
    page.locator("#board-filters .ts-control input").first.fill("hkz")
    expect(page.locator(".ts-dropdown .option")).to_have_count(1)
    option = page.locator(".ts-dropdown .option", has_text="河口镇")
    assert "青山县" in option.inner_text()
    option.tap()
    with page.expect_navigation():
        page.locator("#board-filters button").tap()
    assert f"region={county.regions['t2'].id}" in page.url
