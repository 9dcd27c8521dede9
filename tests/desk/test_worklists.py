"""The desk's lists through the pages: 待办 sorted and filtered, 已办, 我经办的, 抄送我的.

The demo county with the shipped catalog; cases are received at the 受理台 and
worked on the task page, as people do it. Deadlines and arrival times are set
in the database where a test needs them to differ.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from app.clock import center_clock
from app.desk import views
from app.models.desk import CaseCopy
from app.models.items import Item
from workflows import models as m

from ..cases.test_window_pages import case_of, do, intake, item_id, received, window
from ..conftest import CSRF

JOINT = "SCJ-GZJJCS-LHSC"  # 联办件: parallel reviews by 消防, 生态环境, 卫健
ADDRESS = {"f_business_address": "城关街道解放路 18 号"}
REVIEWER = "xf_reviewer"
REVIEW = {"decision": "approve", "opinion": "同意"}


def joint(clerk, session, applicant: str = "周建华", **more) -> str:
    extra = {**ADDRESS, "applicant_name": applicant, **more}
    return received(intake(clerk, session, JOINT, "accept", extra=extra))


def rows(html: str, table: str = "worklist") -> list[str]:
    """Case numbers in the order the table shows them."""
    body = html.split(f'id="{table}"')[1].split("</table>")[0]
    return re.findall(r'class="case-number"[^>]*>(\d{19})<', body)


def reviewer_item(session, number: str) -> m.WorkItem:
    """The open (or last) work item of the case that the 消防 reviewer has."""
    session.expire_all()
    instance_id = case_of(session, number).instance_id
    return session.scalars(
        select(m.WorkItem)
        .where(m.WorkItem.instance_id == instance_id, m.WorkItem.bpmn_id.like("%Fire%"))
        .order_by(m.WorkItem.id.desc())
    ).first()


def set_item(session, number: str, **values) -> None:
    item = reviewer_item(session, number)
    session.execute(update(m.WorkItem).where(m.WorkItem.id == item.id).values(**values))


def open_work(app, username: str = REVIEWER, client=None, **args) -> str:
    """The 待办 page with ``args``, seen by ``username`` (or by a client signed in already)."""
    response = (client or window(app, username)).get("/desk/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- 待办 -----------------------------------------------------------------------------


def test_open_work_comes_green_first_then_nearest_deadline_then_oldest(app, shipped, session):
    clerk = window(app)
    later, sooner, undated, older, green = (joint(clerk, session) for _ in range(5))
    set_item(session, green, priority=100, due_at=None)
    now = datetime(2026, 11, 22, 8)
    set_item(session, later, due_at=now + timedelta(days=5))
    set_item(session, sooner, due_at=now + timedelta(days=1))
    set_item(session, undated, due_at=None, created_at=now)
    set_item(session, older, due_at=None, created_at=now - timedelta(days=3))

    html = open_work(app)
    assert rows(html) == [green, sooner, later, older, undated]
    assert re.search(r'id="nav-open-count">5<', html)
    assert re.search(r'id="open-count">5<', html)


def local_days_ago(app, session, days: int) -> tuple[date, date, datetime]:
    """Today's local day and a local day ``days`` before it, and 07:30 that morning as stored
    (23:30 UTC the day before: a filter by UTC dates would put it on the wrong day)."""
    with app.app_context():
        clock = center_clock(session)
    today = clock.today()
    day = today - timedelta(days=days)
    return today, day, clock.from_local(datetime.combine(day, time(7, 30)))


@pytest.mark.moments("wed-0750", "fri-1731", "2027-0104")
def test_open_work_filters_by_item_step_applicant_number_and_arrival(app, shipped, session):
    clerk = window(app)
    zhou = joint(clerk, session, "周建华")
    wang = joint(clerk, session, "王秀英")
    old = joint(clerk, session, "王秀兰")
    today, arrived, morning = local_days_ago(app, session, 60)
    set_item(session, old, created_at=morning)
    step = reviewer_item(session, zhou).name
    joint_id = item_id(session, JOINT)
    other_item = session.scalars(select(Item.id).where(Item.id != joint_id)).first()

    me = window(app, REVIEWER)  # signed in once (each sign-in hashes a password)

    def seen(**args) -> str:
        return open_work(app, client=me, **args)

    narrowed = seen(applicant="王秀")
    assert rows(narrowed) == [old, wang]
    assert "符合条件的待办共 2 件" in narrowed
    assert re.search(r'id="nav-open-count">3<', narrowed)  # the navigation counts all
    assert rows(seen(number=zhou)) == [zhou]
    assert rows(seen(number=zhou[:-1])) == [old, zhou, wang]  # a beginning will do
    assert set(rows(seen(item=joint_id))) == {zhou, wang, old}
    assert rows(seen(item=other_item)) == []
    assert set(rows(seen(step=step[:2]))) == {zhou, wang, old}
    assert rows(seen(step="不存在的步骤")) == []
    day = arrived.isoformat()
    assert rows(seen(date_from=day, date_to=day)) == [old]
    assert old not in rows(seen(date_from=(arrived + timedelta(days=1)).isoformat()))
    assert set(rows(seen(date_from=today.isoformat()))) == {zhou, wang}
    html = seen(applicant="王秀", date_to=(arrived + timedelta(days=30)).isoformat())
    assert rows(html) == [old]
    assert 'value="王秀"' in html  # the form keeps what was asked
    assert rows(seen(date_from="不是日期")) != []  # a bad date filters nothing


def test_open_work_pages_keep_the_filters(app, shipped, session, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    clerk = window(app)
    numbers = [joint(clerk, session, "王秀英") for _ in range(3)]
    joint(clerk, session, "周建华")

    first = open_work(app, applicant="王秀英")
    assert rows(first) == numbers[:2]
    assert re.search(r'href="/desk/\?[^"]*page=2[^"]*"', first)
    next_link = re.search(r'href="(/desk/\?[^"]*page=2[^"]*)"', first).group(1)
    assert "applicant=" in next_link
    second = window(app, REVIEWER).get(next_link.replace("&amp;", "&")).get_data(as_text=True)
    assert rows(second) == numbers[2:]
    assert "page=3" not in second


def test_a_colleague_who_claimed_the_work_keeps_it_out_of_my_list(app, shipped, session):
    clerk = window(app)
    number = joint(clerk, session)
    set_item(session, number, assignee="someone_else")
    assert rows(open_work(app)) == []


# --- 已办 and 我经办的 --------------------------------------------------------------------


@pytest.mark.moments("wed-0750", "fri-1731", "2027-0104")
def test_done_work_lists_what_i_completed_newest_first(app, shipped, session):
    clerk = window(app)
    first, second, waiting = (joint(clerk, session, name) for name in ("周建华", "王秀英", "李强"))
    do(app, session, REVIEWER, first, reviewer_item(session, first).bpmn_id, REVIEW)
    do(app, session, REVIEWER, second, reviewer_item(session, second).bpmn_id, REVIEW)
    today, done_on, morning = local_days_ago(app, session, 60)
    set_item(session, first, completed_at=morning)

    me = window(app, REVIEWER)
    html = me.get("/desk/done").get_data(as_text=True)
    assert rows(html, "done-list") == [second, first]
    assert "王秀英" in html and session.get(Item, item_id(session, JOINT)).name in html
    assert rows(open_work(app)) == [waiting]
    by_number = me.get("/desk/done", query_string={"number": first}).get_data(as_text=True)
    assert rows(by_number, "done-list") == [first]
    for days in (
        {"date_to": done_on.isoformat()},
        {"date_from": done_on.isoformat(), "date_to": done_on.isoformat()},
    ):
        by_day = me.get("/desk/done", query_string=days).get_data(as_text=True)
        assert rows(by_day, "done-list") == [first]
    today_only = me.get("/desk/done", query_string={"date_from": today.isoformat()})
    assert rows(today_only.get_data(as_text=True), "done-list") == [second]
    # another reviewer of the same cases completed nothing
    other = window(app, "sthj_reviewer").get("/desk/done").get_data(as_text=True)
    assert rows(other, "done-list") == []


def test_my_cases_are_those_i_received_or_worked_on(app, shipped, session):
    clerk = window(app)
    worked, untouched = joint(clerk, session), joint(clerk, session)
    do(app, session, REVIEWER, worked, reviewer_item(session, worked).bpmn_id, REVIEW)

    received_page = clerk.get("/desk/cases").get_data(as_text=True)
    assert re.findall(r'data-case="(\d+)"', received_page) == [untouched, worked]
    mine = window(app, REVIEWER).get("/desk/cases").get_data(as_text=True)
    assert re.findall(r'data-case="(\d+)"', mine) == [worked]


# --- 抄送 -------------------------------------------------------------------------------


def copy_from_task(client, item: m.WorkItem, recipients: list[str], note: str = ""):
    html = client.get(f"/desk/items/{item.id}").get_data(as_text=True)
    assert 'id="copy-form"' in html
    form = {"csrf_token": CSRF.search(html).group(1), "recipients": recipients, "note": note}
    return client.post(f"/desk/items/{item.id}/copy", data=form)


def test_a_copy_is_read_by_its_recipient_and_nothing_waits_on_it(app, shipped, session):
    clerk = window(app)
    number = joint(clerk, session)
    reviewer = window(app, REVIEWER)
    item = reviewer_item(session, number)
    sent = copy_from_task(reviewer, item, ["scj_reviewer"], "请知悉消防意见。")
    assert sent.status_code == 302
    assert "已抄送" in reviewer.get(sent.headers["Location"]).get_data(as_text=True)

    reader = window(app, "scj_reviewer")
    home = reader.get("/desk/").get_data(as_text=True)
    assert re.search(r'id="nav-unread-count">1<', home)
    assert rows(home) == []  # a copy is not work
    listing = reader.get("/desk/copies").get_data(as_text=True)
    assert number in listing and "请知悉消防意见。" in listing and "未读" in listing
    copy_id = re.search(r'data-copy="(\d+)"', listing).group(1)
    page = reader.get(f"/desk/copies/{copy_id}").get_data(as_text=True)
    assert number in page and item.name in page
    assert session.get(CaseCopy, int(copy_id)).read_at is not None
    home = reader.get("/desk/").get_data(as_text=True)
    assert 'id="nav-unread-count"' not in home
    assert reader.get("/desk/copies?unread=1").get_data(as_text=True).count("data-copy=") == 0
    # the copy lets the recipient read the case; the task stays the reviewer's
    assert reader.get(f"/cases/{number}").status_code == 200
    assert item.id in [
        r.id
        for r in session.scalars(
            select(m.WorkItem).where(m.WorkItem.status == m.OPEN, m.WorkItem.id == item.id)
        )
    ]
    # the task page lists the copy
    assert "请知悉消防意见。" in reviewer.get(f"/desk/items/{item.id}").get_data(as_text=True)
    # someone else's copy is not there to open
    assert window(app, "wjw_reviewer").get(f"/desk/copies/{copy_id}").status_code == 404


def test_copies_need_a_recipient_and_a_case_the_sender_may_see(app, shipped, session):
    clerk = window(app)
    number = joint(clerk, session)
    item = reviewer_item(session, number)
    reviewer = window(app, REVIEWER)
    refused = copy_from_task(reviewer, item, [])
    assert "请选择抄送对象" in reviewer.get(refused.headers["Location"]).get_data(as_text=True)
    assert session.scalars(select(CaseCopy)).all() == []

    outsider = window(app, "t01_reviewer")
    html = outsider.get("/desk/").get_data(as_text=True)
    form = {"csrf_token": CSRF.search(html).group(1), "recipients": ["scj_reviewer"]}
    assert outsider.post(f"/desk/items/{item.id}/copy", data=form).status_code == 403
    assert (
        outsider.post(f"/desk/items/{item.id}/copy", data={"recipients": ["x"]}).status_code == 400
    )


def test_mark_all_copies_read(app, shipped, session):
    clerk = window(app)
    reviewer = window(app, REVIEWER)
    for number in (joint(clerk, session), joint(clerk, session)):
        copy_from_task(reviewer, reviewer_item(session, number), ["scj_reviewer", "wjw_reviewer"])
    reader = window(app, "scj_reviewer")
    html = reader.get("/desk/copies").get_data(as_text=True)
    assert re.search(r'id="nav-unread-count">2<', html)
    done = reader.post("/desk/copies/read", data={"csrf_token": CSRF.search(html).group(1)})
    assert "已将 2 条抄送标为已读" in reader.get(done.headers["Location"]).get_data(as_text=True)
    # the other recipient's copies are untouched
    other = window(app, "wjw_reviewer").get("/desk/copies").get_data(as_text=True)
    assert re.search(r'id="nav-unread-count">2<', other)


@pytest.mark.parametrize("path", ["/desk/", "/desk/done", "/desk/cases", "/desk/copies"])
def test_the_lists_ask_for_login(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
