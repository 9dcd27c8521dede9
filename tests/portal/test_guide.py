"""办事指南 on the portal: published items for anyone, searched by name, department, 主题."""

from __future__ import annotations

from sqlalchemy import select

from app.files import store
from app.models.items import Item
from app.vocabulary import ItemStatus

from ..conftest import CSRF, DEMO_PASSWORD, signed_in
from ..items.test_item_pages import PDF, item_form
from ..words import foreign_words


def test_anyone_finds_the_published_items_by_name_topic_and_department(shipped, client, session):
    home = client.get("/portal/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert "青山县政务服务网上办事大厅" in page and "个体经营" in page and "企业开办" in page
    assert "受理台" not in page  # no staff navigation

    found = client.get("/portal/guides?q=个体工商户").get_data(as_text=True)
    assert "个体工商户变更登记" in found and "食品小作坊登记" not in found

    by_topic = client.get("/portal/guides?topic=企业开办").get_data(as_text=True)
    assert "食品小作坊登记" in by_topic and "公众聚集场所开业联合审查" in by_topic
    assert "户外广告设施设置审批" not in by_topic

    item = session.scalars(select(Item).where(Item.code == "ZJJ-HWGG-SZSP")).one()
    by_department = client.get(f"/portal/guides?department={item.lead_department_id}")
    assert "户外广告设施设置审批" in by_department.get_data(as_text=True)
    assert "食品小作坊登记" not in by_department.get_data(as_text=True)

    none = client.get("/portal/guides?q=%25_不存在").get_data(as_text=True)
    assert "没有找到相关事项" in none


def test_a_guide_tells_conditions_materials_limits_place_and_route(shipped, client):
    response = client.get("/portal/guides/SCJ-SPXZF-DJ")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for expected in (
        "食品小作坊登记",
        "承诺件",
        "15 个工作日",
        "7 个工作日",
        "县政务服务中心一楼 市场监管综合窗口",
        "青山县人民路88号",
        "0000-6221001",
        "受理条件",
        "设定依据",
        "办理流程",
    ):
        assert expected in page, expected
    route = page.split('id="guide-route"')[1].split("</ol>")[0]
    assert route.count('class="route-stage"') == 4  # 受理 → 承办 → 审核 → 签批
    assert "受理" in route and "同步办理" not in route


def test_a_joint_reviews_route_shows_the_departments_side_by_side(shipped, client):
    page = client.get("/portal/guides/SCJ-GZJJCS-LHSC").get_data(as_text=True)
    route = page.split('id="guide-route"')[1].split("</ol>")[0]
    stages = route.split('class="route-stage"')[1:]
    assert len(stages) == 4  # 受理, three reviews at once, 汇总, 签批 (超时督办 is no stage)
    assert "以下 3 个环节同步办理" in stages[1]
    for name in ("消防审查", "环保审查", "卫健审查"):
        assert name in stages[1]
    assert "超时督办" not in route


def test_an_unpublished_item_has_no_guide(shipped, client, session):
    item = session.scalars(select(Item).where(Item.code == "ZJJ-HWGG-SZSP")).one()
    item.status = ItemStatus.RETIRED
    session.commit()
    assert client.get("/portal/guides/ZJJ-HWGG-SZSP").status_code == 404
    assert "户外广告设施设置审批" not in client.get("/portal/guides").get_data(as_text=True)
    assert client.get("/portal/guides/NO-SUCH").status_code == 404


def test_guide_pages_speak_chinese(shipped, client):
    pages = ["/portal/", "/portal/guides", "/portal/register", "/portal/login"]
    pages += [f"/portal/guides/{code}" for code in ("SCJ-GTGSH-BGDJ", "ZRZY-KCPJG-HF")]
    for page in pages:
        assert foreign_words(client.get(page).get_data(as_text=True)) == [], page


def test_the_items_editor_sets_where_to_go_and_the_topics_the_guide_shows(
    app, shipped, session, client
):
    designer = signed_in(app, "bigdata_designer", DEMO_PASSWORD)
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    page = f"/items/{food.id}/edit"
    edit = designer.get(page).get_data(as_text=True)
    assert 'value="食品经营、企业开办"' in edit
    values = {
        **item_form(code=food.code, name=food.name, process_id="food_workshop"),
        "statutory_days": "15",
        "committed_days": "7",
        "window": "县政务服务中心二楼 食品窗口（8号）",
        "phone": "0000-6221088",
        "topics_person": "个体经营",
        "topics_company": "食品经营，餐饮开店",
        "csrf_token": CSRF.search(edit).group(1),
    }
    bad = designer.post(page, data={**values, "topics_company": "食" * 41})
    assert bad.status_code == 400 and "太长" in bad.get_data(as_text=True)
    assert designer.post(page, data=values).status_code == 302

    guide = client.get("/portal/guides/SCJ-SPXZF-DJ").get_data(as_text=True)
    assert "食品窗口（8号）" in guide and "0000-6221088" in guide
    by_topic = client.get("/portal/guides?topic=餐饮开店").get_data(as_text=True)
    assert "食品小作坊登记" in by_topic
    assert "食品小作坊登记" not in client.get("/portal/guides?topic=企业开办").get_data(
        as_text=True
    )


def test_a_blank_form_is_downloaded_from_the_guide_without_login(app, shipped, session, client):
    food = session.scalars(select(Item).where(Item.code == "SCJ-SPXZF-DJ")).one()
    material = food.materials[0]
    with app.app_context():
        blob = store.store(session, PDF, "申请表.pdf")
    material.blank_form_sha256, material.blank_form_name = blob.sha256, "申请表.pdf"
    session.commit()
    url = f"/portal/guides/SCJ-SPXZF-DJ/materials/{material.id}/blank"
    assert url in client.get("/portal/guides/SCJ-SPXZF-DJ").get_data(as_text=True)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PDF
    assert "attachment" in response.headers["Content-Disposition"]
    assert client.get(url.replace("/blank", "/example")).status_code == 404
    other = session.scalars(select(Item).where(Item.code == "ZJJ-HWGG-SZSP")).one()
    wrong_item = f"/portal/guides/ZJJ-HWGG-SZSP/materials/{material.id}/blank"
    assert client.get(wrong_item).status_code == 404
    other.status = food.status = ItemStatus.RETIRED
    session.commit()
    assert client.get(url).status_code == 404
