"""Benchmarks of the runtime; prints a table (see docs/BENCHMARKS.md).

Figures, each measured in one run so that ratios hold despite machine noise:

1. completing a user task of the shipped joint-review diagram through the runtime
   service on SQLite (lock, restore or reuse, run, mirror work items, save, commit),
   next to the same diagram run by bare SpiffWorkflow in memory; and through the
   platform's runtime (``app.engine.platform_runtime``: routing to the demo county's
   posts, the case observer, the suspension guard and the audit chain);
2. the same case returned for correction (补正) across the parallel split and join
   200 times: time per step and state size in the last rounds against round one;
3. with ``--worklist``, instead: the 待办 and 已办 queries of one person on PostgreSQL
   with 1 M work items and 100 k open cases (scripts/bench_worklist.py). Without
   ``--database-url`` it starts a throw-away cluster as the tests do (tests/pgserver.py).

4. with ``--delivery``, instead: the 待送达 queue's count and first page for a county
   center, a township and a village clerk on PostgreSQL with 1 M cases, about 1% of them
   decided and not yet delivered (scripts/bench_delivery.py).

5. with ``--portal``, instead: the portal's public pages (办事指南 list, search and detail)
   and a verified applicant's 我的办件 and case page, as whole requests through the Flask
   test client, on PostgreSQL with 100 k cases (scripts/bench_portal.py).

Usage: python scripts/bench.py [--cases 100] [--rounds 200] [--database-url URL]
       python scripts/bench.py --worklist [--work-items 1000000] [--open-cases 100000]
       python scripts/bench.py --delivery [--delivery-cases 1000000] [--runs 200]
       python scripts/bench.py --portal [--portal-cases 100000] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.engine import platform_runtime  # noqa: E402
from app.extensions import db  # noqa: E402
from app.org.demo import demo_rows  # noqa: E402
from app.org.importer import import_rows  # noqa: E402
from app.org.spreadsheet import rows_from_dicts  # noqa: E402
from workflows import models as m  # noqa: E402
from workflows.deployments import UploadedFile, deploy  # noqa: E402
from workflows.runtime import Runtime  # noqa: E402

BUNDLE = ROOT / "bpmn" / "joint_review"
ACCEPT = {
    "applicant_name": "张三",
    "applicant_type": "person",
    "contact_phone": "13800000000",
    "item_name": "食品经营许可",
    "business_address": "城关镇",
    "accept_date": "2026-11-20",
}
REVIEW = {"decision": "approve", "opinion": "同意"}
STEPS = [
    ("Task_Accept", ACCEPT),
    ("Task_DeptReview_Fire", REVIEW),
    ("Task_DeptReview_Env", REVIEW),
    ("Task_DeptReview_Health", REVIEW),
    ("Task_LeadSummary", REVIEW),
    ("Task_LeaderSign", {**REVIEW, "sign_date": "2026-11-25"}),
]


def ms(values) -> str:
    return f"{statistics.median(values) * 1000:.2f}"


def p95(values) -> str:
    return f"{sorted(values)[int(len(values) * 0.95) - 1] * 1000:.2f}"


def make_app(database_url: str | None, workdir: Path):
    from flask_migrate import upgrade

    url = database_url or f"sqlite:///{workdir / 'bench.db'}"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": workdir, "SECRET_KEY": "bench"}
    )
    with app.app_context():
        upgrade()
        files = [UploadedFile(p.name, p.read_bytes()) for p in sorted(BUNDLE.iterdir())]
        deploy(db.session, files, actor="bench")
        import_rows(db.session, rows_from_dicts(demo_rows("bench-password")))
        db.session.commit()
    return app


def open_item(session, instance_id: int, bpmn_id: str) -> m.WorkItem:
    return session.scalars(
        select(m.WorkItem).where(
            m.WorkItem.instance_id == instance_id,
            m.WorkItem.bpmn_id == bpmn_id,
            m.WorkItem.status == m.OPEN,
        )
    ).one()


def timed_complete(rt, instance_id: int, bpmn_id: str, data: dict) -> float:
    """Complete the open work item of a step and commit; returns the seconds taken."""
    item = open_item(db.session, instance_id, bpmn_id)
    item_id, version = item.id, item.version
    db.session.commit()
    started = time.perf_counter()
    rt.complete(item_id, dict(data), version, "bench")
    db.session.commit()
    return time.perf_counter() - started


def runtime_completions(app, cases: int) -> list[float]:
    timings = []
    with app.app_context():
        rt = Runtime(db.session)
        for _ in range(cases):
            instance = rt.start("joint_review", actor="bench")
            db.session.commit()
            timings.extend(timed_complete(rt, instance.id, b, d) for b, d in STEPS)
    return timings


# a village of the demo county and the lead department the diagram's lanes name
PLACE = {"place": "490102100001", "lead_department": "市场监督管理局"}


def platform_completions(app, cases: int) -> list[float]:
    """The same steps through the platform's runtime: routing, observers, guard, audit."""
    timings = []
    with app.app_context():
        rt = platform_runtime()
        for _ in range(cases):
            instance = rt.start("joint_review", data=dict(PLACE), actor="bench")
            db.session.commit()
            timings.extend(timed_complete(rt, instance.id, b, d) for b, d in STEPS)
    return timings


def bare_completions(app, cases: int) -> list[float]:
    with app.app_context():
        rt = Runtime(db.session)
        specs = rt.process_specs(rt.definition("joint_review").id)
        db.session.commit()
    timings = []
    for _ in range(cases):
        workflow = BpmnWorkflow(
            specs.spec, specs.subprocess_specs, script_engine=PythonScriptEngine()
        )
        workflow.do_engine_steps()
        for bpmn_id, data in STEPS:
            task = next(
                t
                for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.bpmn_id == bpmn_id
            )
            started = time.perf_counter()
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            timings.append(time.perf_counter() - started)
    return timings


def returns(app, rounds: int) -> tuple[list[list[float]], list[int]]:
    """Per round: the time of each step; and the state size after each round."""
    per_round, sizes = [], []
    with app.app_context():
        rt = Runtime(db.session)
        instance = rt.start("joint_review", actor="bench")
        db.session.commit()
        loop = [
            ("Task_Accept", ACCEPT),
            *STEPS[1:4],
            (
                "Task_LeadSummary",
                {"decision": "return", "opinion": "补正", "correction_items": "执照"},
            ),
        ]
        for _ in range(rounds):
            per_round.append([timed_complete(rt, instance.id, b, d) for b, d in loop])
            sizes.append(len(db.session.get(m.InstanceState, instance.id).state))
            db.session.commit()
    return per_round, sizes


@contextmanager
def postgres_app(args):
    """The application on a migrated PostgreSQL database: ``--database-url`` or a throw-away
    cluster. No app context is left pushed: each request gets its own, as in production."""
    from flask_migrate import upgrade

    from tests.pgserver import PostgresServer

    server = None if args.database_url else PostgresServer().start()
    try:
        url = args.database_url or server.create_database("yimen_bench")
        with tempfile.TemporaryDirectory(prefix="yimen-bench-") as tmp:
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": url,
                    "INSTANCE_PATH": tmp,
                    "SECRET_KEY": "bench",
                    "SESSION_COOKIE_SECURE": False,  # the test client speaks plain http
                }
            )
            with app.app_context():
                upgrade()
            yield app
    finally:
        if server is not None:
            server.stop()


@contextmanager
def postgres_session(args):
    """A session on a migrated PostgreSQL database (see ``postgres_app``)."""
    from sqlalchemy.orm import Session

    with postgres_app(args) as app:
        with app.app_context():
            engine = db.engine
        with Session(engine) as session:
            yield session


def worklist(args) -> None:
    import bench_worklist

    with postgres_session(args) as session:
        started = time.perf_counter()
        username = bench_worklist.load(
            session, work_items=args.work_items, open_cases=args.open_cases
        )
        loaded = time.perf_counter() - started
        counts = bench_worklist.sizes(session)
        results = bench_worklist.measure(session, username, runs=args.runs)
    print(f"# Yimen worklist benchmark — {os.cpu_count()} cores, PostgreSQL")
    print()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f"; loaded in {loaded:.0f} s")
    print()
    print("\n".join(bench_worklist.table(results)))


def deliveries(args) -> None:
    import bench_delivery

    with postgres_session(args) as session:
        started = time.perf_counter()
        clerks = bench_delivery.load(session, cases=args.delivery_cases)
        loaded = time.perf_counter() - started
        counts = bench_delivery.sizes(session, clerks)
        results = bench_delivery.measure(session, clerks, runs=args.runs)
    print(f"# Yimen 待送达 benchmark — {os.cpu_count()} cores, PostgreSQL")
    print()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f"; loaded in {loaded:.0f} s")
    print()
    print("\n".join(bench_delivery.table(results)))


def portal(args) -> None:
    import bench_portal

    with postgres_app(args) as app:
        started = time.perf_counter()
        target = bench_portal.load(app, cases=args.portal_cases)
        loaded = time.perf_counter() - started
        counts = bench_portal.sizes(app)
        results = bench_portal.measure(app, target, runs=args.runs)
    print(f"# Yimen portal benchmark — {os.cpu_count()} cores, PostgreSQL, Flask test client")
    print()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f"; loaded in {loaded:.0f} s")
    print()
    print("\n".join(bench_portal.table(results)))
    print()
    print("load average: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


def statistics_pages(args) -> None:
    import bench_statistics

    last_day = date(2026, 11, 30)  # the measured month: November 2026, three years before it
    with postgres_app(args) as app:
        started = time.perf_counter()
        bench_statistics.load(app, cases=args.statistics_cases, last_day=last_day)
        loaded = time.perf_counter() - started
        counts = bench_statistics.sizes(app)
        results = bench_statistics.measure(app, last_day, runs=args.statistics_runs)
    print(f"# Yimen statistics benchmark — {os.cpu_count()} cores, PostgreSQL, Flask test client")
    print()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f"; loaded in {loaded:.0f} s")
    print()
    print("\n".join(bench_statistics.table(results)))
    print()
    print("load average: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--worklist", action="store_true", help="the worklist figure only")
    parser.add_argument("--work-items", type=int, default=1_000_000)
    parser.add_argument("--open-cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--delivery", action="store_true", help="the 待送达 figure only")
    parser.add_argument("--delivery-cases", type=int, default=1_000_000)
    parser.add_argument("--portal", action="store_true", help="the portal pages' figure only")
    parser.add_argument("--portal-cases", type=int, default=100_000)
    parser.add_argument("--statistics", action="store_true", help="the statistics pages only")
    parser.add_argument("--statistics-cases", type=int, default=1_000_000)
    parser.add_argument("--statistics-runs", type=int, default=10)
    args = parser.parse_args()
    if args.statistics:
        statistics_pages(args)
        return
    if args.worklist:
        worklist(args)
        return
    if args.delivery:
        deliveries(args)
        return
    if args.portal:
        portal(args)
        return

    with tempfile.TemporaryDirectory(prefix="yimen-bench-") as tmp:
        app = make_app(args.database_url, Path(tmp))
        bare_completions(app, 5)  # warm caches on both sides
        runtime_completions(app, 5)
        platform_completions(app, 5)
        bare = bare_completions(app, args.cases)
        service = runtime_completions(app, args.cases)
        platform = platform_completions(app, args.cases)
        per_round, sizes = returns(app, args.rounds)

    first = [t for r in per_round[:10] for t in r]
    last = [t for r in per_round[-10:] for t in r]
    engine = (args.database_url or "sqlite").split(":", 1)[0]
    print(f"# Yimen runtime benchmark — {os.cpu_count()} cores, database: {engine}")
    print()
    print("| figure | median ms | p95 ms | per second | ratio |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| bare SpiffWorkflow, complete a user task in memory ({len(bare)}) | {ms(bare)} | {p95(bare)} | "
        f"{1 / statistics.median(bare):.0f} | 1.0 |"
    )
    print(
        f"| runtime service, complete + commit ({len(service)}) | {ms(service)} | {p95(service)} | "
        f"{1 / statistics.median(service):.0f} | {statistics.median(service) / statistics.median(bare):.1f} |"
    )
    print(
        f"| platform runtime (routing, observers, guard), complete + commit ({len(platform)}) | "
        f"{ms(platform)} | {p95(platform)} | {1 / statistics.median(platform):.0f} | "
        f"{statistics.median(platform) / statistics.median(bare):.1f} |"
    )
    print(f"| returns: step time, rounds 1–10 | {ms(first)} | {p95(first)} | | 1.0 |")
    print(
        f"| returns: step time, rounds {args.rounds - 9}–{args.rounds} | {ms(last)} | {p95(last)} | | "
        f"{statistics.median(last) / statistics.median(first):.2f} |"
    )
    print(
        f"| returns: state size after round 1 / round {args.rounds} (bytes) | {sizes[0]} / {sizes[-1]} | | | "
        f"{sizes[-1] / sizes[0]:.2f} |"
    )


if __name__ == "__main__":
    main()
