"""The portal figure of scripts/bench.py: the public pages as applicants load them, PostgreSQL.

The platform is set up the way ``scripts/run`` does it: the shipped diagrams of
bpmn/ deployed, the demo county 青山县, the catalog of bpmn/catalog.json (so a
guide renders its route from the deployed diagram). Cases are bulk-loaded with
COPY (never through the runtime), each with the window's events for its status;
their applicants are spread over many ID numbers. One verified applicant owns
about 20 of them, spread over the whole id range: some submitted from the account,
the rest received at a window for the applicant's ID number (shown once verified).

Timings are whole requests through the Flask test client (no network): session,
login check, queries and template rendering, the server's time for each page. The
applicant logs in through the portal's own form, CSRF token and all.
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_worklist import _copy, _next_id, percentile

from app.cli import load_bundles
from app.extensions import db
from app.items.catalog import load_catalog
from app.models.applicants import Applicant
from app.models.cases import Case, CaseEvent
from app.models.items import Item
from app.models.org import Region
from app.org.demo import demo_rows
from app.org.importer import import_rows
from app.org.spreadsheet import rows_from_dicts
from app.portal import accounts
from app.vocabulary import CaseChannel, CaseEventKind, CaseStatus
from workflows.timeutil import utcnow

ROOT = Path(__file__).resolve().parent.parent
APPLICANT_ID = "11010519491231002X"
PASSWORD = "bench-portal-2026"
OWN_CASES = 20
GUIDE = "SCJ-GZJJCS-LHSC"  # 公众聚集场所开业联合审查: the longest route of the shipped diagrams
QUERY = "登记"  # two of the five items
OTHER_APPLICANTS = 20_000
STATUSES = (
    (CaseStatus.DELIVERED, 0.80),
    (CaseStatus.PROCESSING, 0.08),
    (CaseStatus.ACCEPTED, 0.03),
    (CaseStatus.CORRECTING, 0.02),
    (CaseStatus.DECIDED, 0.03),
    (CaseStatus.REFUSED, 0.03),
    (CaseStatus.WITHDRAWN, 0.01),
)
OWN_STATUSES = (
    CaseStatus.PROCESSING, CaseStatus.CORRECTING, CaseStatus.DECIDED, CaseStatus.ACCEPTED,
    *[CaseStatus.DELIVERED] * 5, CaseStatus.REFUSED,
)  # fmt: skip
# the window's events of a case, by the status it reached
EVENTS = {
    CaseStatus.ACCEPTED: (CaseEventKind.ACCEPTED,),
    CaseStatus.PROCESSING: (CaseEventKind.ACCEPTED,),
    CaseStatus.CORRECTING: (CaseEventKind.CORRECTION_REQUESTED,),
    CaseStatus.DECIDED: (CaseEventKind.ACCEPTED, CaseEventKind.DECIDED),
    CaseStatus.DELIVERED: (CaseEventKind.ACCEPTED, CaseEventKind.DECIDED, CaseEventKind.DELIVERED),
    CaseStatus.REFUSED: (CaseEventKind.REFUSED,),
    CaseStatus.WITHDRAWN: (CaseEventKind.ACCEPTED, CaseEventKind.WITHDRAWN),
}
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _platform(session) -> None:
    """The shipped diagrams, the demo county and the catalog, as ``scripts/run`` loads them."""
    load_bundles(ROOT / "bpmn", actor="bench")
    import_rows(session, rows_from_dicts(demo_rows("bench-password")), must_change_password=False)
    load_catalog(session, ROOT / "bpmn" / "catalog.json")
    session.commit()


def _applicant(session) -> Applicant:
    applicant = accounts.register(
        session,
        {
            "kind": "person",
            "name": "张三",
            "id_number": APPLICANT_ID,
            "phone": "13800138000",
            "password": PASSWORD,
        },
    )
    applicant.verified_at, applicant.verified_by = utcnow(), "bench"
    session.commit()
    return applicant


def _other_id_number(rng: random.Random) -> str:
    """An ID number of one of ``OTHER_APPLICANTS`` people (not checked: rows come by COPY)."""
    person = rng.randrange(OTHER_APPLICANTS)
    return f"330102{1950 + person % 50}{person:08d}"


def _rows(session, applicant: Applicant, cases: int, seed: int):
    """The case rows and their event rows; and the numbers of the applicant's own cases."""
    rng = random.Random(seed)
    county = session.scalar(select(Region).where(Region.level == "county").order_by(Region.id))
    places = list(session.scalars(select(Region.id)))
    items = list(session.execute(select(Item.id, Item.lead_department_id).order_by(Item.code)))
    own = set(rng.sample(range(cases), min(OWN_CASES, cases)))
    now, first_case, first_event = utcnow(), _next_id(session, Case), _next_id(session, CaseEvent)
    case_rows, event_rows, own_numbers = [], [], []
    for n in range(cases):
        status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
        if n in own:  # the applicant's: a few open, so the page has its reminders too
            status = OWN_STATUSES[len(own_numbers) % len(OWN_STATUSES)]
        received = now - timedelta(days=rng.uniform(0, 700))
        number = f"3301{received:%Y%m%d}{n:07d}"
        item_id, department_id = items[rng.randrange(len(items))]
        mine, online = n in own, rng.random() < (0.4 if n in own else 0.05)
        account = applicant.id if mine and online else None
        name, id_number = ("张三", APPLICANT_ID) if mine else (f"申请人{n % 5000}", _other_id_number(rng))  # fmt: skip
        decided = received + timedelta(days=5) if status in ("decided", "delivered") else None
        case_rows.append(
            (first_case + n, number, item_id, status,
             CaseChannel.ONLINE if online else CaseChannel.WINDOW, "person", name, id_number,
             "13900000000", account, places[rng.randrange(len(places))], county.id,
             department_id, "{}", received, None if online else "bench_clerk", decided)
        )  # fmt: skip
        for step, kind in enumerate((CaseEventKind.RECEIVED, *EVENTS[status])):
            event_rows.append(
                (first_event + len(event_rows), first_case + n, received + timedelta(days=step),
                 kind, "bench_clerk", None)
            )  # fmt: skip
        if mine:
            own_numbers.append((number, status))
    return case_rows, event_rows, own_numbers


def load(app, *, cases: int, seed: int = 13) -> dict[str, str]:
    """Set up the platform and bulk-load ``cases`` cases; returns what the measurement visits:
    the applicant's login, one guide's code, a search word and one of the applicant's cases.
    The database must be PostgreSQL (psycopg 3)."""
    with app.app_context():
        session = db.session
        _platform(session)
        applicant = _applicant(session)
        case_rows, event_rows, own = _rows(session, applicant, cases, seed)
        connection = session.connection().connection.driver_connection
        with connection.cursor() as cursor:
            _copy(
                cursor,
                Case,
                ["id", "number", "item_id", "status", "channel", "applicant_type",
                 "applicant_name", "applicant_id_number", "applicant_phone",
                 "applicant_account_id", "place_id", "county_id", "lead_department_id", "data",
                 "received_at", "received_by", "decided_at"],
                case_rows,
            )  # fmt: skip
            _copy(cursor, CaseEvent, ["id", "case_id", "at", "kind", "actor", "data"], event_rows)
        for table in ("case_file", "case_event"):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
            connection.exec_driver_sql("VACUUM")
    in_progress = [number for number, status in own if status == CaseStatus.PROCESSING]
    return {
        "id_number": APPLICANT_ID,
        "password": PASSWORD,
        "guide": GUIDE,
        "query": QUERY,
        "case": (in_progress or [number for number, _ in own])[0],
    }


def log_in(app, target: dict[str, str]):
    """A test client logged in as the applicant through the portal's login form."""
    client = app.test_client()
    page = client.get("/portal/login").get_data(as_text=True)
    response = client.post(
        "/portal/login",
        data={
            "id_number": target["id_number"],
            "password": target["password"],
            "csrf_token": CSRF.search(page).group(1),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def pages(target: dict[str, str]) -> dict[str, str]:
    return {
        "网上办事大厅 home `/portal/`": "/portal/",
        "办事指南 list `/portal/guides`": "/portal/guides",
        f"办事指南 search `?q={target['query']}`": f"/portal/guides?q={target['query']}",
        "办事指南 detail `/portal/guides/<code>` (route from the diagram)": (
            f"/portal/guides/{target['guide']}"
        ),
        "我的办件 `/portal/cases` (verified applicant)": "/portal/cases",
        "one case `/portal/cases/<number>`": f"/portal/cases/{target['case']}",
    }


def _timed_get(client, path: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return timings


def measure(app, target: dict[str, str], runs: int = 200) -> dict[str, list[float]]:
    """Seconds per request of each page, for ``runs`` requests after 10 warm-up ones."""
    client = log_in(app, target)
    results = {}
    for name, path in pages(target).items():
        _timed_get(client, path, 10)
        results[name] = _timed_get(client, path, runs)
    return results


def sizes(app) -> dict[str, int]:
    counts = {}
    with app.app_context():
        for label, sql in (
            ("cases", "SELECT count(*) FROM case_file"),
            ("case events", "SELECT count(*) FROM case_event"),
            (
                "published items",
                "SELECT count(*) FROM item WHERE status = 'published' AND kind <> 'feedback'",
            ),
            (
                "the applicant's cases",
                f"SELECT count(*) FROM case_file WHERE applicant_id_number = '{APPLICANT_ID}'",
            ),
        ):
            counts[label] = db.session.execute(text(sql)).scalar()
    return counts


def table(results: dict[str, list[float]]) -> list[str]:
    lines = ["| page | median ms | p95 ms | runs |", "|---|---:|---:|---:|"]
    for name, values in results.items():
        lines.append(
            f"| {name} | {statistics.median(values) * 1000:.2f} | "
            f"{percentile(values, 0.95) * 1000:.2f} | {len(values)} |"
        )
    return lines


__all__ = ["load", "log_in", "measure", "pages", "sizes", "table"]
