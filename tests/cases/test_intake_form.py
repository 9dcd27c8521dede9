"""The intake form's answers checked all at once, with the form's own labels."""

from __future__ import annotations

from app.cases.intake_form import answers, missing_answers, problems, problems_message

SHOP = {
    "type": "object",
    "required": ["shop_name", "category", "opened_on"],
    "properties": {
        "shop_name": {"type": "string", "title": "店名", "minLength": 1, "maxLength": 10},
        "category": {
            "type": "string",
            "title": "经营类别",
            "oneOf": [{"const": "food", "title": "食品"}, {"const": "other", "title": "其他"}],
        },
        "opened_on": {"type": "string", "title": "开业日期", "format": "date"},
        "chain": {"type": "boolean", "title": "连锁经营"},
        "reviewer_note": {"type": "string", "title": "审核人意见", "readOnly": True},
        "opinion": {"type": "string", "title": "受理意见"},
    },
}


def test_every_missing_answer_is_named_at_once_in_the_forms_order():
    found = problems(SHOP, {"category": "food"}, complete=True)
    assert set(found) == {"shop_name", "opened_on"}
    assert problems_message(SHOP, found) == (
        "申请信息填写有误：店名（此项为必填项）；开业日期（此项为必填项）。"
    )
    assert missing_answers(SHOP, {"category": "food"}) == ["店名", "开业日期"]


def test_an_incomplete_application_may_lack_answers_but_not_have_wrong_ones():
    assert problems(SHOP, {"category": "food"}, complete=False) == {}
    found = problems(
        SHOP, {"category": "tea", "shop_name": "很长很长很长很长很长的店名"}, complete=False
    )
    assert problems_message(SHOP, found) == (
        "申请信息填写有误：店名（内容太长）；经营类别（取值不在允许的范围内）。"
    )


def test_answers_read_as_people_read_them():
    shown = answers(SHOP, {"shop_name": "老周豆腐坊", "category": "food", "chain": False})
    assert [(a.label, a.text) for a in shown] == [
        ("店名", "老周豆腐坊"),
        ("经营类别", "食品"),
        ("开业日期", ""),
        ("连锁经营", "否"),
    ]
