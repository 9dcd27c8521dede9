"""A company applies with its 统一社会信用代码 wherever a person applies with an ID card."""

from __future__ import annotations

from .test_window_pages import case_of, do, intake, received, window

USCC = "91330100716105852F"
MINERAL = {
    "f_company_name": "青山县白沙石料厂",
    "f_product_type": "building_stone",
    "f_plant_address": "东河社区北岭",
}


def test_a_company_applies_for_the_mineral_permit_with_its_credit_code(app, shipped, session):
    clerk = window(app, "v0101_clerk")
    company = {"applicant_type": "company", "applicant_id_number": USCC, **MINERAL}
    number = received(intake(clerk, session, "ZRZY-KCPJG-HF", "accept", extra=company))
    assert case_of(session, number).applicant_id_number == USCC
    # the township sends it back for 补正; the village corrects and reports it again
    do(
        app,
        session,
        "t01_reviewer",
        number,
        "Task_TownshipReview",
        {"decision": "return", "opinion": "缺营业执照", "correction_items": "营业执照副本"},
    )
    do(
        app,
        session,
        "v0101_clerk",
        number,
        "Task_Register",
        {
            "company_name": "青山县白沙石料厂",
            "product_type": "building_stone",
            "plant_address": "东河社区北岭",
            "opinion": "已补齐营业执照",
        },
    )
    approve = {"decision": "approve", "opinion": "同意"}
    do(app, session, "t01_reviewer", number, "Task_TownshipReview", approve)
    assert case_of(session, number).status == "processing"
