"""The worklist figure of scripts/bench.py: 待办 and 已办 queries on a big county, PostgreSQL.

Rows are bulk-loaded with COPY (never through the runtime): closed cases with
seven completed steps, open cases with two completed steps and one open; each
work item routed to one of ``posts`` posts. The measured person holds one post
(about ``open_cases / posts`` open items routed to it) and has claimed a few
items of other posts. Timings are of the service functions the pages call, on
one connection, after a warm-up; the page adds template rendering on top.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import text

from app import policy
from app.auth.services import create_user
from app.desk import services
from app.models.auth import User
from app.models.cases import Case
from app.models.items import Item
from app.models.org import Department, Post, Region
from app.models.routing import WorkItemCandidate
from workflows import models as m
from workflows.timeutil import utcnow

USER = "bench_reviewer"
CLOSED_STEPS = 7  # completed work items of a closed case
OPEN_STEPS = 3  # two completed, one open
ROLES = ("handler", "reviewer")


def _base(session, posts: int) -> dict:
    """The org, item and definition rows the bulk rows point at."""
    county = Region(code="990100000000", name="压测县", level="county", path="/bench/")
    session.add(county)
    session.flush()
    post_rows = []
    for d in range((posts + len(ROLES) - 1) // len(ROLES)):
        department = Department(code=f"bench-{d}", name=f"压测部门{d}", region_id=county.id)
        session.add(department)
        session.flush()
        for role in ROLES[: posts - len(post_rows)]:
            post_rows.append(Post(department_id=department.id, role=role))
    session.add_all(post_rows)
    item = Item(code="BENCH-ITEM", name="压测事项", kind="promise")
    deployment = m.Deployment(bundle_sha256="bench" * 8, dialect="spiff")
    session.add_all([item, deployment])
    session.flush()
    definition = m.ProcessDefinition(process_id="bench", version=1, deployment_id=deployment.id)
    session.add(definition)
    user = create_user(session, USER, "bench-password", display_name="压测审核人")
    user.posts.append(post_rows[0])
    session.flush()
    return {
        "county": county.id,
        "item": item.id,
        "definition": definition.id,
        "posts": [p.id for p in post_rows],
    }


def _next_id(session, model) -> int:
    return (
        session.execute(text(f"SELECT coalesce(max(id), 0) FROM {model.__tablename__}")).scalar()
    ) + 1


def _defaults(model, columns: list[str]) -> dict:
    """Values for the required columns a COPY leaves out: the models' Python defaults."""
    values = {}
    for column in model.__table__.columns:
        if column.name in columns or column.nullable or column.default is None:
            continue
        value = column.default.arg(None) if column.default.is_callable else column.default.arg
        values[column.name] = json.dumps(value) if isinstance(value, dict | list) else value
    return values


def _copy(cursor, model, columns: list[str], rows) -> None:
    extra = _defaults(model, columns)
    names = ", ".join([*columns, *extra])
    constant = tuple(extra.values())
    with cursor.copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + constant)


def load(session, *, work_items: int, open_cases: int, posts: int = 200, seed: int = 7) -> str:
    """Bulk-load about ``work_items`` work items with ``open_cases`` open cases; returns the
    username to measure. The session's connection must be PostgreSQL (psycopg 3)."""
    base = _base(session, posts)
    closed_cases = max((work_items - open_cases * OPEN_STEPS) // CLOSED_STEPS, 0)
    first_instance, first_item = _next_id(session, m.ProcessInstance), _next_id(session, m.WorkItem)
    first_case = _next_id(session, Case)
    rng = random.Random(seed)
    now = utcnow()
    instances, items, candidates, cases = [], [], [], []
    item_id = first_item
    for n in range(closed_cases + open_cases):
        instance_id, is_open = first_instance + n, n >= closed_cases
        started = now - timedelta(days=rng.uniform(1, 700) if not is_open else rng.uniform(0, 20))
        number = f"990100{started:%Y%m%d}{n:05d}"[-19:]
        green = is_open and rng.random() < 0.05
        instances.append(
            (
                instance_id,
                base["definition"],
                "bench",
                "running" if is_open else "completed",
                json.dumps({"case_number": number}),
                started,
                started,
            )
        )
        cases.append(
            (
                first_case + n,
                number,
                base["item"],
                instance_id,
                "processing" if is_open else "delivered",
                green,
                "person",
                f"申请人{n % 5000}",
                "110105194912310020",
                "13900000000",
                base["county"],
                base["county"],
                "{}",
                started,
                f"clerk{n % 50}",
            )
        )
        steps = OPEN_STEPS if is_open else CLOSED_STEPS
        for step in range(steps):
            opens = is_open and step == steps - 1
            arrived = started + timedelta(hours=step * 4)
            post = rng.choice(base["posts"])
            assignee = completed_by = None
            if opens:
                chance = rng.random()
                assignee = USER if chance < 0.002 else (f"user{n % 997}" if chance < 0.15 else None)
            else:
                completed_by = USER if rng.random() < 0.002 else f"user{rng.randrange(997)}"
                assignee = completed_by
            due = None if rng.random() < 0.1 else arrived + timedelta(days=rng.uniform(1, 15))
            items.append(
                (
                    item_id,
                    instance_id,
                    f"t{item_id}",
                    f"Task_{step}",
                    f"步骤{step}",
                    None,
                    "user",
                    "{}",
                    "open" if opens else "completed",
                    assignee,
                    100 if green else 0,
                    due,
                    arrived,
                    None if opens else arrived + timedelta(hours=2),
                    completed_by,
                    1,
                )
            )
            candidates.append((item_id, post, "diagram"))
            item_id += 1
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        _copy(
            cursor,
            m.ProcessInstance,
            ["id", "definition_id", "process_id", "status", "data", "created_at", "updated_at"],
            instances,
        )
        _copy(
            cursor,
            Case,
            [
                "id",
                "number",
                "item_id",
                "instance_id",
                "status",
                "green_channel",
                "applicant_type",
                "applicant_name",
                "applicant_id_number",
                "applicant_phone",
                "place_id",
                "county_id",
                "data",
                "received_at",
                "received_by",
            ],
            cases,
        )
        _copy(
            cursor,
            m.WorkItem,
            [
                "id",
                "instance_id",
                "task_id",
                "bpmn_id",
                "name",
                "lane",
                "kind",
                "properties",
                "status",
                "assignee",
                "priority",
                "due_at",
                "created_at",
                "completed_at",
                "completed_by",
                "version",
            ],
            items,
        )
        _copy(cursor, WorkItemCandidate, ["work_item_id", "post_id", "reason"], candidates)
    for model in (m.ProcessInstance, Case, m.WorkItem, WorkItemCandidate):
        table = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        )
    session.commit()
    session.commit()
    # As autovacuum would leave it: statistics, and a visibility map for index-only scans.
    with session.bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
        connection.exec_driver_sql("VACUUM")  # measured: only the second marks pages all-visible
    return USER


def _timed(call, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


def measure(session, username: str, runs: int = 200) -> dict[str, list[float]]:
    """Seconds per call of each list query, for ``runs`` calls after a warm-up."""
    user = session.query(User).filter_by(username=username).one()
    item = services.my_open_work(session, user, limit=1).rows[0].item
    queries = {
        "待办 list (50 rows, with its count)": lambda: services.my_open_work(
            session, user, limit=50
        ),
        "待办 count alone (navigation on other pages)": lambda: services.count_open_work(
            session, user
        ),
        "待办 page 5 (offset 200)": lambda: services.my_open_work(session, user, offset=200),
        "已办 list (50 rows)": lambda: services.my_done_work(session, user, limit=50),
        "may act on one item (task page check)": lambda: policy.can_act(session, user, item),
    }
    results = {}
    for name, call in queries.items():
        _timed(call, 10)
        results[name] = _timed(call, runs)
    return results


def sizes(session) -> dict[str, int]:
    counts = {}
    for label, sql in (
        ("work items", "SELECT count(*) FROM work_item"),
        ("open work items", "SELECT count(*) FROM work_item WHERE status = 'open'"),
        ("open cases", "SELECT count(*) FROM case_file WHERE status = 'processing'"),
    ):
        counts[label] = session.execute(text(sql)).scalar()
    return counts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * fraction + 0.5) - 1, 0)]


def table(results: dict[str, list[float]]) -> list[str]:
    lines = ["| query | median ms | p95 ms |", "|---|---:|---:|"]
    for name, values in results.items():
        lines.append(
            f"| {name} | {statistics.median(values) * 1000:.2f} | "
            f"{percentile(values, 0.95) * 1000:.2f} |"
        )
    return lines
