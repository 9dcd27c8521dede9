"""Fixtures: a real database per test (SQLite and PostgreSQL), the app, API helpers.

``YIMEN_TEST_DATABASES`` chooses the databases (default ``sqlite,postgresql``).
PostgreSQL is started by the tests from Debian's packages; the schema comes from
the Alembic migrations, run once per database per session.

A test marked ``moments`` runs once at each of the center's awkward local moments
(``MOMENTS``), with the clock travelled there (time-machine, ticking) before its
app and database are built; ``@pytest.mark.moments("fri-1731", ...)`` names a few.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import create_app
from app.auth.services import create_user, issue_token
from app.extensions import db
from workflows import runtime as runtime_module

from .pgserver import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
DIAGRAMS = ROOT / "tests" / "fixtures" / "diagrams"
SHIPPED = ROOT / "bpmn"
DATABASES = [
    d.strip()
    for d in os.environ.get("YIMEN_TEST_DATABASES", "sqlite,postgresql").split(",")
    if d.strip()
]


BEIJING = ZoneInfo("Asia/Shanghai")
# The local moments a day-dependent test must pass at, whatever day the suite runs.
MOMENTS = {
    "tue-0930": datetime(2026, 11, 24, 9, 30, tzinfo=BEIJING),  # an ordinary working morning
    "wed-0750": datetime(2026, 11, 25, 7, 50, tzinfo=BEIJING),  # still Tuesday in UTC
    "fri-1729": datetime(2026, 11, 27, 17, 29, tzinfo=BEIJING),  # a minute before closing
    "fri-1731": datetime(2026, 11, 27, 17, 31, tzinfo=BEIJING),  # after hours: Monday's work
    "sun-1500": datetime(2026, 11, 29, 15, 0, tzinfo=BEIJING),  # a rest day
    "sep30-2145": datetime(2026, 9, 30, 21, 45, tzinfo=BEIJING),  # the eve of National Day
    "2027-0104": datetime(2027, 1, 4, 10, 0, tzinfo=BEIJING),  # a year the package does not know
}


def pytest_generate_tests(metafunc):
    """``@pytest.mark.moments``: one run per moment, all of ``MOMENTS`` or those the marker
    gives (by name, or as an aware datetime of the test's own)."""
    marker = metafunc.definition.get_closest_marker("moments")
    if marker is None:
        return
    chosen = {}
    for given in marker.args or MOMENTS:
        if isinstance(given, datetime) and given.tzinfo is not None:
            chosen[given.strftime("%Y%m%d-%H%M")] = given
        elif given in MOMENTS:
            chosen[given] = MOMENTS[given]
        else:
            raise pytest.UsageError(
                f"moment {given!r}: name one of {list(MOMENTS)} or an aware datetime"
            )
    metafunc.parametrize("moment", list(chosen.values()), ids=list(chosen), indirect=True)


@pytest.fixture(autouse=True)
def moment(request):
    """The local moment a ``moments`` test runs at, the clock travelled there (and ticking)
    for the whole test; None for other tests, which run at the real time.

    Autouse, so it is set up before the function-scoped fixtures that build the app,
    the database and its rows: everything the test stores was stored "then".
    """
    when = getattr(request, "param", None)
    if when is None:
        yield None
        return
    with time_machine.travel(when, tick=True):
        yield when


# The clock's logic does not depend on the database: on PostgreSQL a ``moments`` test runs
# at the moments where the stored UTC time and the local day differ most.
POSTGRESQL_MOMENTS = ("wed-0750", "fri-1731", "sep30-2145")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgresql_only`` exist for PostgreSQL alone: drop their other variants;
    ``sqlite_only`` ones (what a page shows, the same on both) run once, with SQLite.

    On PostgreSQL, ``moments`` tests that run at every moment keep only ``POSTGRESQL_MOMENTS``."""
    kept, dropped = [], []
    others = {MOMENTS[name] for name in MOMENTS if name not in POSTGRESQL_MOMENTS}
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        database = params.get("database_url")
        marker = item.get_closest_marker("moments")
        only_postgresql = item.get_closest_marker("postgresql_only") is not None
        only_sqlite = item.get_closest_marker("sqlite_only") is not None and "sqlite" in DATABASES
        spare_moment = marker is not None and not marker.args and params.get("moment") in others
        if (
            (only_postgresql and database != "postgresql")
            or (only_sqlite and database != "sqlite")
            or (spare_moment and database == "postgresql")
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sqlite-template")
    path = base / "template.db"
    _migrate(f"sqlite:///{path}", base)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def postgres_url(request) -> str:
    server = request.getfixturevalue("postgres")
    url = server.create_database("yimen_test")
    _migrate(url, Path(server.base))
    return url


def _sqlite_copy(template: Path, target: Path) -> str:
    with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def _truncate_all(url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# The ``shipped`` set-up (demo county, five deployed diagrams, the catalog) as built by the
# first test of a worker that asks for it, per database; later tests that ask for it at the
# real time start from these rows instead of building them again.
_SHIPPED_ROWS: dict[str, list[tuple[str, list[dict]]]] = {}
FROM_SNAPSHOT = pytest.StashKey[bool]()


def _snapshot_rows(url: str) -> list[tuple[str, list[dict]]]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as conn:
        rows = [
            (t.name, [dict(r) for r in conn.execute(t.select()).mappings()])
            for t in db.metadata.sorted_tables
        ]
    engine.dispose()
    return rows


def _restore_rows(url: str, snapshot) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    tables = db.metadata.tables
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        for name, rows in snapshot:
            if rows:
                conn.execute(tables[name].insert(), rows)
        if engine.dialect.name == "postgresql":
            for name, rows in snapshot:
                if rows and "id" in tables[name].c and tables[name].c.id.autoincrement:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                            f'(SELECT max(id) FROM "{name}"))'
                        )
                    )
    engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        url = _sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path / "yimen.db")
    elif request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        _truncate_all(url)
    else:
        raise ValueError(f"unknown test database {request.param}")
    snapshot = _SHIPPED_ROWS.get(request.param)
    at_real_time = getattr(request.node.get_closest_marker("moments"), "args", None) is None
    if snapshot is not None and at_real_time and "shipped" in request.fixturenames:
        _restore_rows(url, snapshot)
        request.node.stash[FROM_SNAPSHOT] = True
    return url


def new_app(database_url: str, instance: Path):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "test-secret",
            # one key for every test, so a database restored from a snapshot keeps a valid chain
            "AUDIT_KEY": "test-audit-key",
            "TESTING": True,
        }
    )


@pytest.fixture
def app(database_url, tmp_path):
    """The application, with no app context pushed: each request gets its own, as in production."""
    runtime_module.LIVE.clear()
    runtime_module.SPECS.clear()
    app = new_app(database_url, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


def engine_of(app):
    with app.app_context():
        return db.engine


@pytest.fixture
def session(app):
    """An autocommit session for the test's own reads and writes: it never holds a lock."""
    s = Session(
        engine_of(app).execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=True
    )
    yield s
    s.close()


@pytest.fixture
def tx(app):
    """A transactional session, as a request or the scheduler uses one."""
    s = Session(engine_of(app))
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def rt(app):
    """The runtime on a transactional session, as the scheduler uses it."""
    s = Session(engine_of(app))
    yield runtime_module.Runtime(s)
    s.close()


class Api:
    """JSON calls through the Flask test client with a bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self.headers, **kwargs)

    def delete(self, path: str, json=None, **kwargs):
        return self.client.delete(path, json=json, headers=self.headers, **kwargs)

    def deploy(self, *files):
        """Deploy files given as paths or (name, bytes) pairs."""
        payload = []
        for f in files:
            name, content = (f.name, f.read_bytes()) if isinstance(f, Path) else f
            payload.append((io.BytesIO(content), name))
        return self.client.post(
            "/api/v1/deployments",
            data={"files": payload},
            headers=self.headers,
            content_type="multipart/form-data",
        )

    def start(self, process_id: str, data=None, **extra):
        return self.post(
            "/api/v1/instances", {"process_id": process_id, "data": data or {}, **extra}
        )

    def instance(self, instance_id: int) -> dict:
        response = self.get(f"/api/v1/instances/{instance_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def open_items(self, instance_id: int) -> dict[str, dict]:
        """Open work items of an instance by BPMN id (one per id expected)."""
        response = self.get(f"/api/v1/work-items?instance={instance_id}")
        assert response.status_code == 200, response.get_json()
        return {i["bpmn_id"]: i for i in response.get_json()["work_items"]}

    def complete(self, item: dict, data=None, version=None):
        return self.post(
            f"/api/v1/work-items/{item['id']}/complete",
            {"data": data or {}, "version": item["version"] if version is None else version},
        )


def make_user(app, username: str, *, admin: bool = False, password: str | None = None) -> str:
    """Create a user and return a bearer token for it."""
    with app.app_context():
        create_user(
            db.session,
            username,
            password or "password-" + username,
            display_name="系统管理员" if admin else None,
            is_admin=admin,
        )
        token = issue_token(db.session, username)
        db.session.commit()
    return token


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(request, app, client) -> Api:
    if request.node.stash.get(FROM_SNAPSHOT, False):
        with app.app_context():
            token = issue_token(db.session, "admin")
            db.session.commit()
        return Api(client, token)
    return Api(client, make_user(app, "admin", admin=True))


@pytest.fixture
def county(app, session):
    """The small county of tests/county.py, built in this test's database."""
    from .county import build_county

    return build_county(session)


@pytest.fixture
def neighbour(county, session):
    """白水县 next to the county (tests/county.py), for "a user of another county"."""
    from .county import build_neighbour

    return build_neighbour(session, county)


def api_for(app, username: str) -> Api:
    """An API client acting as an existing user (issues a token)."""
    from app.auth.services import issue_token

    with app.app_context():
        token = issue_token(db.session, username)
        db.session.commit()
    return Api(app.test_client(), token)


def with_forms(diagram: Path) -> list[Path]:
    """A diagram and the form files it references, as one bundle."""
    import re

    found = re.findall(
        r'formJsonSchemaFilename(?:>|" value=")([^<"]*)[<"]', diagram.read_text(encoding="utf-8")
    )
    names = {n.strip() for n in found if n.strip()}
    return [diagram, *(diagram.parent / n for n in sorted(names))]


def bundle(folder: Path) -> list[Path]:
    """The files of a diagram folder, as one deployment bundle."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".bpmn", ".dmn", ".json"))


# --- the demo county with the shipped items, and signing in to pages -----------------

DEMO_PASSWORD = "demo12345"
SHIPPED_FOLDERS = (
    "business_change",
    "food_workshop",
    "outdoor_ad",
    "joint_review",
    "mineral_permit",
    "rectification",
    "complaint",
    "cannot_do",
)
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def demo(request, app, session, monkeypatch):
    """The demo county 青山县 (app/org/demo.py), every user with ``DEMO_PASSWORD``."""
    from app.org.demo import demo_rows
    from app.org.importer import import_rows
    from app.org.spreadsheet import rows_from_dicts

    monkeypatch.delenv("YIMEN_DEMO_PASSWORD", raising=False)
    if request.node.stash.get(FROM_SNAPSHOT, False):
        return
    import_rows(session, rows_from_dicts(demo_rows(DEMO_PASSWORD)), must_change_password=False)
    session.commit()


@pytest.fixture
def deployed(request, api):
    """The five shipped diagrams of bpmn/, deployed."""
    if request.node.stash.get(FROM_SNAPSHOT, False):
        return api
    for name in SHIPPED_FOLDERS:
        response = api.deploy(*bundle(SHIPPED / name))
        assert response.status_code == 201, (name, response.get_json())
    return api


@pytest.fixture
def shipped(request, app, deployed, demo, session, database_url):
    """The demo county with the shipped catalog loaded, as ``scripts/run`` sets it up.

    Built once per worker and database; later tests start from a copy of its rows."""
    from app.items.catalog import load_catalog, sync_packages

    if request.node.stash.get(FROM_SNAPSHOT, False):
        return
    with app.app_context():
        load_catalog(session, SHIPPED / "catalog.json")
        sync_packages(session, SHIPPED / "catalog.json")
    session.commit()
    kind = request.node.callspec.params["database_url"]
    at_real_time = getattr(request.node.get_closest_marker("moments"), "args", None) is None
    if at_real_time and kind not in _SHIPPED_ROWS:
        _SHIPPED_ROWS[kind] = _snapshot_rows(database_url)


def signed_in(app, username: str, password: str | None = None):
    """A test client with a logged-in session (``pw-<username>`` unless given)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or f"pw-{username}",
            "csrf_token": CSRF.search(page).group(1),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
