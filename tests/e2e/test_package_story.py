"""一件事一次办 in a real browser, the whole way: an applicant registers on the 网上办事大厅,
reads the guide of 开办餐饮店, applies online for its four items at once with uploads,
gets a 补正 notice on one of them and resubmits; the window accepts; the departments
work the four cases from 待办; the fee is paid at the window; the results are handed out
together (统一出证) and the applicant downloads the decisions.

Run once per database; the applicant and the staff swap screens between the runs, so
every page is seen on a laptop (1366×768) and on a phone (390×844).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models.cases import CasePackage

from ..conftest import DEMO_PASSWORD
from .conftest import login
from .test_portal import register_on_portal
from .test_stories import BASE, SIZES, case_of, decide, open_step, read, submit_step

pytestmark = pytest.mark.e2e

PLACE = "青山县 / 城关街道 / 东河社区"
SCREENS = {"sqlite": ("phone", "laptop"), "postgresql": ("laptop", "phone")}


def context(browser, size: str):
    viewport, phone = SIZES[size]
    made = browser.new_context(locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone)
    made.set_default_timeout(20000)
    page = made.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations
    return made, page


@pytest.fixture
def pages(browser):
    made = []

    def make(size: str, username: str | None = None):
        ctx, page = context(browser, size)
        made.append(ctx)
        if username:
            login(page, BASE["url"], username, DEMO_PASSWORD)
        return page

    yield make
    for ctx in made:
        ctx.close()


def apply_online(page, live_server, tmp_path) -> str:
    """Register, find the package, fill its one form and upload its one material list."""
    register_on_portal(page, live_server, "周建国")
    page.goto(f"{live_server}/portal/")
    read(page, "网上办事大厅首页")
    page.click("#home-packages a:has-text('开办餐饮店')")
    read(page, "一件事办事指南")
    assert "共用于" in page.inner_text("#package-materials")
    page.click("#package-apply")
    page.wait_for_selector("#application-form")
    read(page, "一件事在线申报")
    page.select_option("#place", label=PLACE)
    page.fill("[name=f_workshop_name]", "老周糕点坊")
    page.fill("[name=f_workshop_address]", "城关街道人民路 12 号")
    page.select_option("[name=f_food_category]", "pastry")
    page.select_option("[name=f_facility_type]", "signboard")
    page.fill("[name=f_facility_width]", "4.5")
    page.fill("[name=f_facility_height]", "1.2")
    page.fill("[name=f_ad_content]", "老周糕点")
    page.fill("[name=f_set_until]", "2029-12-31")
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(b"%PDF-1.7\n%%EOF\n")
    for upload in page.locator("#application-materials input[type=file]").all():
        upload.set_input_files(str(scan))
    page.click("#application-submit")
    page.wait_for_url(re.compile(r"/portal/my/packages/YJS\d+$"))
    read(page, "一件事进度")
    assert page.locator("#package-cases a").count() == 4
    return page.url.rsplit("/", 1)[1]


def work(pages, size, number, steps) -> None:
    """Each (username, step, decision label, opinion, extra fields) from 待办."""
    for username, step, label, opinion, extra in steps:
        page = pages(size, username)
        open_step(page, number, step)
        decide(page, label, opinion)
        for selector, value in extra.items():
            if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                page.select_option(selector, label=value)
            else:
                page.fill(selector, value)
        submit_step(page)
        page.context.close()


@pytest.mark.slow
def test_an_applicant_opens_a_restaurant_in_one_go(
    shipped, session, live_server, pages, tmp_path, request
):
    BASE["url"] = live_server
    applicant_size, staff_size = SCREENS[request.node.callspec.params["database_url"]]
    applicant = pages(applicant_size)
    package_number = apply_online(applicant, live_server, tmp_path)
    session.expire_all()
    bundle = session.scalars(select(CasePackage).where(CasePackage.number == package_number)).one()
    change, food, joint, sign = (c.number for c in bundle.cases)

    # 网上预审: the window returns one unfit file of the 食品小作坊 case, accepts the rest
    clerk = pages(staff_size, "center_clerk")
    clerk.goto(f"{live_server}/cases/intake")
    read(clerk, "受理台的网上预审")
    for number in (change, food, joint, sign):
        assert clerk.locator(f'#online-queue tr[data-case="{number}"]').count() == 1
    clerk.goto(f"{live_server}/cases/{food}")
    read(clerk, "一件事的办件页面")
    clerk.locator("#case-actions label", has_text="从业人员健康证明").click()
    clerk.fill("#case-actions textarea[name=note]", "健康证明已过期，请上传有效期内的证明")
    clerk.click("button:has-text('出具补正材料通知书')")
    clerk.wait_for_load_state("load")
    assert clerk.inner_text("#case-status") == "补正"
    for number in (change, joint, sign):
        clerk.goto(f"{live_server}/cases/{number}")
        clerk.locator("#case-actions button.btn-success").click()
        clerk.wait_for_load_state("load")
    assert case_of(session, joint).status == "accepted"

    # the applicant reads the 一次性告知 online and uploads the one file again
    applicant.goto(f"{live_server}/portal/cases")
    read(applicant, "我的办件")
    applicant.click(f'[data-reminder="{food}"] a')
    read(applicant, "补正告知")
    assert "健康证明已过期" in applicant.inner_text("#correction-panel")
    scan = tmp_path / "健康证明.pdf"
    scan.write_bytes(b"%PDF-1.7\n%%EOF\n")
    for upload in applicant.locator("#correction-form input[type=file]").all():
        upload.set_input_files(str(scan))
    applicant.click("#correction-submit")
    applicant.wait_for_load_state("load")
    assert case_of(session, food).status == "applied"
    clerk.goto(f"{live_server}/cases/{food}")
    clerk.locator("#case-actions button.btn-success").click()
    clerk.wait_for_load_state("load")
    assert case_of(session, food).status == "accepted"

    # the departments, each from 待办
    work(pages, staff_size, change, [
        ("center_clerk", "当场审核办结", "准予变更登记", "经营范围增加糕点制售",
         {"#change_type": "经营范围", "#change_detail": "经营范围：增加自制糕点现做现售",
          "#registration_no": "92490102MA0000001X"}),
    ])  # fmt: skip
    work(pages, staff_size, food, [
        ("scj_spg_handler", "承办", "拟准予登记", "材料齐全", {}),
        ("scj_spg_reviewer", "审核", "同意准予登记，报分管领导签批", "同意", {}),
        ("scj_deputy", "分管领导签批", "准予登记", "同意", {"#certificate_no": "QS-SPXZF-2026-001"}),
    ])  # fmt: skip
    work(pages, staff_size, joint, [
        ("xf_reviewer", "消防审查", "同意", "消防设施符合要求", {}),
        ("sthj_reviewer", "环保审查", "同意", "同意", {}),
        ("wjw_reviewer", "卫健审查", "同意", "同意", {}),
        ("scj_reviewer", "牵头部门汇总", "同意，报分管领导签批", "三部门均同意", {}),
        ("scj_deputy", "分管领导签批", "准予许可", "同意", {}),
    ])  # fmt: skip
    work(pages, staff_size, sign, [
        ("zjj_handler", "初审", "同意，转相关部门会签", "符合规划", {}),
        ("scj_reviewer", "相关部门会签", "同意", "同意", {}),
        ("ly_reviewer", "相关部门会签", "同意", "同意", {}),
        ("zrzy_reviewer", "相关部门会签", "同意", "同意", {}),
        ("zjj_deputy", "分管领导签批", "准予设置", "同意设置", {"#certificate_no": "QS-HWGG-2026-002"}),
    ])  # fmt: skip

    # the fee of the 门头招牌, paid at the window against a receipt
    applicant.goto(f"{live_server}/portal/cases")
    assert "待缴费" in applicant.inner_text("main")
    clerk.goto(f"{live_server}/cases/{sign}")
    amount = clerk.inner_text("#payments strong").lstrip("¥")
    clerk.fill("#payments input[name=receipt_no]", "QS-SF-0101")
    clerk.fill("#payments input[name=amount]", amount)
    clerk.click("button:has-text('现场缴费')")
    clerk.wait_for_load_state("load")
    assert {case_of(session, n).status for n in (change, food, joint, sign)} == {"decided"}

    # 统一出证 from the package page: every result handed out at once
    clerk.goto(f"{live_server}/cases/packages/{package_number}")
    read(clerk, "一件事页面")
    clerk.fill("#package-deliver input[name=receiver]", "周建国")
    clerk.click("#package-deliver button[type=submit]")
    clerk.wait_for_load_state("load")
    assert {case_of(session, n).status for n in (change, food, joint, sign)} == {"delivered"}

    # the applicant sees the package done and downloads each decision
    applicant.goto(f"{live_server}/portal/my/packages/{package_number}")
    read(applicant, "办结的一件事")
    assert "已统一出证" in applicant.inner_text("#package-stage")
    for number in (change, food, joint, sign):
        applicant.goto(f"{live_server}/portal/cases/{number}")
        read(applicant, "办结的办件")
        links = applicant.locator("#case-documents a").all()
        decision = [a for a in links if "决定" in a.inner_text() or "登记证" in a.inner_text()]
        assert decision, applicant.inner_text("#case-documents")
        pdf = applicant.request.get(live_server + decision[0].get_attribute("href"))
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")
