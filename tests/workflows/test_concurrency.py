"""Three departments completing their parallel reviews at the same moment."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from workflows import models as m

from ..conftest import SHIPPED, Api, bundle
from .test_joint_review import REVIEWS, start_and_accept

ROUNDS = 50


def _complete_at_once(app, token: str, items: dict[str, dict]) -> dict[str, int]:
    barrier = threading.Barrier(len(items))
    statuses: dict[str, int] = {}

    def work(bpmn_id: str, item: dict):
        api = Api(app.test_client(), token)
        barrier.wait(timeout=30)
        response = api.complete(item, {"decision": "approve", "opinion": f"{bpmn_id} 同意"})
        statuses[bpmn_id] = response.status_code

    threads = [threading.Thread(target=work, args=(b, i)) for b, i in items.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def test_parallel_reviews_completed_concurrently_are_all_recorded(app, api, session):
    api.deploy(*bundle(SHIPPED / "joint_review"))
    token = api.headers["Authorization"].split()[1]
    for _ in range(ROUNDS):
        instance_id = start_and_accept(api)
        items = api.open_items(instance_id)
        statuses = _complete_at_once(app, token, {r: items[r] for r in REVIEWS})
        assert statuses == dict.fromkeys(REVIEWS, 200)

        body = api.instance(instance_id)
        assert [i["bpmn_id"] for i in body["work_items"]] == ["Task_LeadSummary"]
        assert body["data"]["opinion"] in {f"{r} 同意" for r in REVIEWS}, body["data"]
        leads = session.scalar(
            select(func.count())
            .select_from(m.WorkItem)
            .where(m.WorkItem.instance_id == instance_id, m.WorkItem.bpmn_id == "Task_LeadSummary")
        )
        assert leads == 1
        done = session.scalars(
            select(m.WorkItem.data).where(
                m.WorkItem.instance_id == instance_id,
                m.WorkItem.bpmn_id.in_(REVIEWS),
                m.WorkItem.status == m.DONE,
            )
        ).all()
        assert sorted(d["opinion"] for d in done) == sorted(f"{r} 同意" for r in REVIEWS)
        session.rollback()
