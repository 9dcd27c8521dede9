"""The 待送达 figure of scripts/bench.py: the queue's count and page on a big county, PostgreSQL.

A county of 22 townships with 18 villages each; every township and two villages
in three have a window, the county center too. Cases are bulk-loaded with COPY
(never through the runtime): most delivered long ago, a few in progress, about
1% decided and waiting for delivery. Places and receivers are spread the way a
county's are: most cases received at the applicant's own village or township
window, some at the county center, a few online (no receiver). Timings are of
the service functions the desk calls, for a clerk of each kind of window.
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_worklist import _copy, _next_id, _timed, table

from app.cases import delivery
from app.models.auth import User
from app.models.cases import Case
from app.models.items import Item
from app.models.org import Department, Post, Region
from workflows.timeutil import utcnow

TOWNSHIPS, VILLAGES = 22, 18
STATUSES = (("delivered", 0.93), ("processing", 0.04), ("decided", 0.01), ("refused", 0.02))
CLERKS = {"county": "bench_center_clerk", "township": "bench_t00_clerk", "village": "bench_v0000_clerk"}  # fmt: skip


def _region(session, code: str, name: str, level: str, parent: Region | None) -> Region:
    region = Region(code=code, name=name, level=level, parent=parent)
    session.add(region)
    session.flush()
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    return region


def _window(session, region: Region, key: str) -> str:
    """A window at ``region`` with one clerk; returns the clerk's username."""
    department = Department(code=f"bench-{key}", name=f"{region.name}窗口", region=region)
    clerk = User(
        username=f"bench_{key}_clerk", display_name=f"{region.name}窗口", password_hash="-"
    )
    clerk.posts.append(Post(department=department, role="window_clerk"))
    session.add_all([department, clerk])
    return clerk.username


def _county(session) -> list[tuple[Region, str]]:
    """The regions and, for each place, the clerk of its nearest window."""
    county = _region(session, "980100000000", "压测县", "county", None)
    places = [(county, _window(session, county, "center"))]
    for t in range(TOWNSHIPS):
        township = _region(session, f"9801001{t:02d}000", f"压测{t}镇", "township", county)
        township_clerk = _window(session, township, f"t{t:02d}")
        places.append((township, township_clerk))
        for v in range(VILLAGES):
            village = _region(
                session, f"9801001{t:02d}2{v:02d}", f"压测{t}-{v}村", "village", township
            )
            own = _window(session, village, f"v{t:02d}{v:02d}") if v % 3 != 2 else None
            places.append((village, own or township_clerk))
    session.flush()
    return places


def load(session, *, cases: int, seed: int = 11) -> dict[str, str]:
    """Bulk-load the county and ``cases`` cases; returns the clerk to measure per level."""
    places = _county(session)
    center_clerk = places[0][1]
    item = Item(code="BENCH-DELIVERY", name="压测事项", kind="promise")
    session.add(item)
    session.commit()
    rng = random.Random(seed)
    now, first = utcnow(), _next_id(session, Case)
    rows = []
    for n in range(cases):
        place, nearest_clerk = places[rng.randrange(len(places))]
        chance = rng.random()
        receiver = None if chance < 0.05 else center_clerk if chance < 0.2 else nearest_clerk
        status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
        received = now - timedelta(days=rng.uniform(0, 700))
        decided = received + timedelta(days=3) if status in ("decided", "delivered") else None
        rows.append(
            (first + n, f"9801{n:015d}", item.id, status, "person", f"申请人{n % 5000}",
             "110105194912310020", "13900000000", place.id, places[0][0].id, "{}",
             received, receiver, decided)
        )  # fmt: skip
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        _copy(
            cursor,
            Case,
            ["id", "number", "item_id", "status", "applicant_type", "applicant_name",
             "applicant_id_number", "applicant_phone", "place_id", "county_id", "data",
             "received_at", "received_by", "decided_at"],
            rows,
        )  # fmt: skip
    session.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('case_file', 'id'), (SELECT max(id) FROM case_file))"
        )
    )
    session.commit()
    with session.bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
        connection.exec_driver_sql("VACUUM")
    return CLERKS


def measure(session, clerks: dict[str, str], runs: int = 200) -> dict[str, list[float]]:
    """Seconds per call of the queue's count and first page, per kind of window."""
    results = {}
    for level, username in clerks.items():
        user = session.query(User).filter_by(username=username).one()
        for name, call in (
            (f"待送达 count, {level} window", lambda u=user: delivery.count_waiting(session, u)),
            (f"待送达 page (50 rows), {level} window",
             lambda u=user: delivery.waiting_cases(session, u, limit=50)),
        ):  # fmt: skip
            _timed(call, 10)
            results[name] = _timed(call, runs)
    return results


def sizes(session, clerks: dict[str, str]) -> dict[str, int]:
    counts = {
        "cases": session.execute(text("SELECT count(*) FROM case_file")).scalar(),
        "decided": session.execute(
            text("SELECT count(*) FROM case_file WHERE status = 'decided'")
        ).scalar(),
    }
    for level, username in clerks.items():
        user = session.query(User).filter_by(username=username).one()
        counts[f"waiting at the {level} window"] = delivery.count_waiting(session, user)
    return counts


__all__ = ["load", "measure", "sizes", "table"]
