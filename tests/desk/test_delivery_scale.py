"""PostgreSQL only: the 待送达 queries stay on the case index, and the bench code runs.

The benchmark itself (1 M cases) is ``scripts/bench.py --delivery``; here it runs at a
tiny size so that its code does not rot.
"""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.cases import delivery
from app.models.auth import User

from ..conftest import ROOT, engine_of
from .test_worklist_scale import explain, scans

pytestmark = pytest.mark.postgresql_only  # EXPLAIN plans and COPY: PostgreSQL's own


def bench_module():
    spec = importlib.util.spec_from_file_location(
        "bench_delivery", ROOT / "scripts" / "bench_delivery.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pg(app):
    with Session(engine_of(app)) as s:
        yield s


def test_the_queue_count_can_run_on_the_case_index_alone(app, pg):
    """With sequential scans priced out, the count of every kind of window still has a
    plan that reads no table of cases from end to end."""
    clerks = bench_module().load(pg, cases=3000)
    pg.execute(text("SET enable_seqscan = off"))
    for username in clerks.values():
        user = pg.query(User).filter_by(username=username).one()
        stmt = select(func.count()).select_from(delivery.waiting_ids(pg, user).subquery())
        plan = scans(explain(pg, stmt))
        assert ("Seq Scan", "case_file") not in plan, (username, plan)


def test_the_bench_runs_at_a_tiny_size(app, pg):
    bench = bench_module()
    clerks = bench.load(pg, cases=2000)
    counts = bench.sizes(pg, clerks)
    assert counts["cases"] == 2000 and 0 < counts["decided"] < 200
    assert counts["waiting at the county window"] > 0
    results = bench.measure(pg, clerks, runs=3)
    assert len(results) == 6 and all(len(v) == 3 for v in results.values())
    user = pg.query(User).filter_by(username=clerks["township"]).one()
    rows = delivery.waiting_cases(pg, user, limit=1000)
    assert len(rows) == delivery.count_waiting(pg, user)
    assert all(case.status == "decided" for case in rows)
