"""The statistics figure of scripts/bench.py: the leaders' pages on three years of cases.

The platform is set up as ``scripts/run`` does (diagrams, demo county, catalog); cases
are bulk-loaded with COPY over the three years before the measured month, spread over
the five approval items (by their weights below), the county's places, the channels,
with the items' own limits: most decided within their committed working days, about
one in twelve late, a few still open, refusals and withdrawals; deductions and cards
for the late ones. Nothing goes through the runtime.

Timings are whole requests through the Flask test client as a center inspector
(login, permissions, queries, template), the server's time for each page.
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_portal import _platform, _timed_get
from bench_worklist import _copy, _next_id, percentile

from app.clock import center_clock
from app.extensions import db
from app.models.cases import OPEN_UNTIL, Case
from app.models.items import Item
from app.models.org import Region
from app.statistics import facts
from app.vocabulary import CaseChannel, CaseStatus

INSPECTOR = "center_inspector"
PASSWORD = "bench-password"
YEARS = 3
# item code: share of the cases
WEIGHTS = {
    "SCJ-GTGSH-BGDJ": 0.45,  # 即办件
    "SCJ-SPXZF-DJ": 0.20,
    "ZJJ-HWGG-SZSP": 0.15,
    "SCJ-GZJJCS-LHSC": 0.12,
    "ZRZY-KCPJG-HF": 0.08,
}
CHANNELS = ((CaseChannel.WINDOW, 0.6), (CaseChannel.ONLINE, 0.3), (CaseChannel.PROXY, 0.1))
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _moment(day: date, hour: float) -> datetime:
    """Beijing ``hour`` on ``day`` as the naive UTC stored (the center's zone)."""
    return datetime.combine(day, clock_time(0)) + timedelta(hours=hour - 8)


def _rows(session, cases: int, last_day: date, seed: int):
    rng = random.Random(seed)
    clock = center_clock(session)
    calendar = clock.calendar
    county = session.scalar(select(Region).where(Region.level == "county").order_by(Region.id))
    places = list(session.scalars(select(Region.id).where(Region.level == "village")))
    items = {i.code: i for i in session.scalars(select(Item).where(Item.code.in_(list(WEIGHTS))))}
    codes, weights = list(WEIGHTS), list(WEIGHTS.values())
    first_day = last_day - timedelta(days=365 * YEARS)
    span = (last_day - first_day).days
    first_case = _next_id(session, Case)
    rows = []
    for n in range(cases):
        item = items[rng.choices(codes, weights)[0]]
        received_day = first_day + timedelta(days=rng.randrange(span))
        if not calendar.is_workday(received_day):
            received_day = calendar.next_workday(received_day)
        received = _moment(received_day, rng.uniform(8.5, 17.0))
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        fate = rng.random()
        accepted = promised = decided = delivered = closed = used = None
        status = CaseStatus.DELIVERED
        if fate < 0.02:
            status, closed = CaseStatus.REFUSED, received + timedelta(days=1)
        else:
            accepted = received
            promised = clock.promised_date(accepted, item.committed_days)
            start = clock.first_working_day(accepted)
            late = rng.random() < 0.08
            if item.committed_days == 0:
                used = 0 if not late else 1
            elif late:
                used = item.committed_days + rng.randint(1, 5)
            else:
                used = rng.randint(max(0, item.committed_days // 3), item.committed_days)
            decided_day = calendar.add_workdays(start, used) if used else start
            decided = _moment(decided_day, rng.uniform(9, 17))
            if fate < 0.03:
                status, closed, decided = CaseStatus.WITHDRAWN, received + timedelta(days=1), None
                used = None
            elif decided_day > last_day:  # not yet decided at the end
                status, decided, used = CaseStatus.PROCESSING, None, None
            else:
                delivered = decided + timedelta(days=rng.uniform(0.1, 3))
                closed = delivered
        rows.append(
            (first_case + n, f"49010{n:014d}", item.id, status, channel, "person",
             f"申请人{n % 9000}", f"330102{1950 + n % 50}{n % 10**8:08d}", "13900000000",
             places[rng.randrange(len(places))], county.id, item.lead_department_id, "{}",
             received, "bench_clerk", accepted, promised, decided, delivered, closed,
             clock.day_of(decided) if decided else None, used if decided else None,
             decided or closed or OPEN_UNTIL)
        )  # fmt: skip
    return rows


def load(app, *, cases: int, last_day: date, seed: int = 17) -> None:
    """Set up the platform and COPY ``cases`` cases received over the three years up to
    ``last_day``. The database must be PostgreSQL (psycopg 3)."""
    with app.app_context():
        session = db.session
        _platform(session)
        rows = _rows(session, cases, last_day, seed)
        connection = session.connection().connection.driver_connection
        with connection.cursor() as cursor:
            _copy(
                cursor,
                Case,
                ["id", "number", "item_id", "status", "channel", "applicant_type",
                 "applicant_name", "applicant_id_number", "applicant_phone", "place_id",
                 "county_id", "lead_department_id", "data", "received_at", "received_by",
                 "accepted_at", "promised_date", "decided_at", "delivered_at", "closed_at",
                 "decided_on", "used_workdays", "ended_at"],
                rows,
            )  # fmt: skip
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('case_file', 'id'), (SELECT max(id) FROM case_file))"
            )
        )
        session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        started = time.perf_counter()
        kept = facts.fill(db.session)  # what the scheduler's hourly job does
        db.session.commit()
        print(f"kept the facts of {len(kept)} months in {time.perf_counter() - started:.1f} s")


def log_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "username": INSPECTOR,
            "password": PASSWORD,
            "csrf_token": CSRF.search(page).group(1),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def pages(last_day: date, town_id: int, item_id: int) -> dict[str, str]:
    day = last_day.isoformat()
    return {
        "统计分析, a month": f"/statistics/?period=month&day={day}",
        "统计分析, a month, one township": f"/statistics/?period=month&day={day}&region={town_id}",
        "统计分析, a quarter": f"/statistics/?period=quarter&day={day}",
        "统计分析, a year": f"/statistics/?period=year&day={day}",
        "Excel of a month": f"/statistics/export.xlsx?period=month&day={day}",
        "红黑榜, a month": f"/statistics/rankings?period=month&day={day}",
        "环节瓶颈, a month": f"/statistics/bottlenecks?period=month&day={day}&item={item_id}",
    }


def measure(app, last_day: date, runs: int = 20) -> dict[str, list[float]]:
    """Seconds per request of each page, for ``runs`` requests after 2 warm-up ones."""
    client = log_in(app)
    with app.app_context():
        town = db.session.scalar(select(Region.id).where(Region.level == "township").limit(1))
        item = db.session.scalar(select(Item.id).where(Item.code == "SCJ-SPXZF-DJ"))
    results = {}
    for name, path in pages(last_day, town, item).items():
        _timed_get(client, path, 2)
        results[name] = _timed_get(client, path, runs)
    return results


def sizes(app) -> dict[str, int]:
    with app.app_context():
        return {
            "cases": db.session.scalar(text("SELECT count(*) FROM case_file")),
            "decided": db.session.scalar(
                text("SELECT count(*) FROM case_file WHERE decided_at IS NOT NULL")
            ),
        }


def table(results: dict[str, list[float]]) -> list[str]:
    lines = ["| page | median ms | p95 ms |", "|---|---:|---:|"]
    for name, values in results.items():
        lines.append(
            f"| {name} | {statistics.median(values) * 1000:.1f} | "
            f"{percentile(values, 0.95) * 1000:.1f} |"
        )
    return lines
