"""PostgreSQL only: 我的办件 finds an applicant's cases by index, and the bench code runs.

The benchmark itself (100 k cases, whole requests) is ``scripts/bench.py --portal``; here
it runs at a tiny size so that its code does not rot.
"""

from __future__ import annotations

import importlib.util
import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.applicants import Applicant
from app.models.cases import Case
from app.portal import my_cases

from ..conftest import ROOT, engine_of
from ..desk.test_worklist_scale import explain, scans

pytestmark = pytest.mark.postgresql_only  # EXPLAIN plans and COPY: PostgreSQL's own


def bench_module():
    spec = importlib.util.spec_from_file_location(
        "bench_portal", ROOT / "scripts" / "bench_portal.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def pg(app):
    with Session(engine_of(app)) as s:
        yield s


def test_my_cases_can_run_on_the_case_indexes_alone(app, pg):
    """With sequential scans priced out, a verified applicant's 我的办件 (own cases and those
    received at a window for their ID number) has a plan that reads no table of cases
    from end to end."""
    bench_module().load(app, cases=2000)
    applicant = pg.scalars(select(Applicant)).one()
    assert applicant.verified
    pg.execute(text("SET enable_seqscan = off"))
    stmt = select(Case.id).where(my_cases.mine(applicant)).order_by(Case.id.desc()).limit(20)
    plan = scans(explain(pg, stmt))
    assert ("Seq Scan", "case_file") not in plan, plan
    assert ("Bitmap Index Scan", "ix_case_applicant_id_number") in plan, plan


def test_the_bench_runs_at_a_tiny_size(app):
    bench = bench_module()
    target = bench.load(app, cases=1500)
    counts = bench.sizes(app)
    assert counts["cases"] == 1500 and counts["the applicant's cases"] == 20
    assert counts["published items"] == 5 and counts["case events"] > 1500
    results = bench.measure(app, target, runs=3)
    assert len(results) == 6 and all(len(v) == 3 for v in results.values())
    client = bench.log_in(app, target)
    page = client.get("/portal/cases").get_data(as_text=True)
    assert len(set(re.findall(r"/portal/cases/(3301\d+)", page))) == 20
    assert target["case"] in page
    guide = client.get(f"/portal/guides/{target['guide']}").get_data(as_text=True)
    assert (
        guide.split('id="guide-route"')[1].count("route-stage") >= 2
    )  # the deployed diagram's route
