"""Configuration, read from environment variables with safe defaults."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _json_object(name: str) -> dict:
    """A JSON object from the environment; anything else is ignored (the defaults hold)."""
    try:
        value = json.loads(os.environ.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _instance_secret(instance_path: Path, env_name: str, file_name: str) -> str:
    """A secret from the environment, else one generated once per instance folder (0600)."""
    if os.environ.get(env_name):
        return os.environ[env_name]
    key_file = instance_path / file_name
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.chmod(0o600)
        key_file.write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def load_config(instance_path: Path) -> dict:
    """The application's settings; tests override entries after this."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'yimen.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "SECRET_KEY": _instance_secret(instance_path, "SECRET_KEY", "secret_key"),
        # the audit chain's HMAC key: kept out of the database (docs/SECURITY.md)
        "AUDIT_KEY": _instance_secret(instance_path, "YIMEN_AUDIT_KEY", "audit_key"),
        # the chain's head is appended here (and to the log) every few minutes
        "AUDIT_ANCHOR_PATH": os.environ.get("YIMEN_AUDIT_ANCHOR_PATH")
        or str(instance_path / "audit_anchors.jsonl"),
        "AUDIT_ANCHOR_MINUTES": float(os.environ.get("YIMEN_AUDIT_ANCHOR_MINUTES", 5)),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # how long a SQLite writer waits for the write lock before the request answers 503
        "SQLITE_BUSY_MS": int(os.environ.get("YIMEN_SQLITE_BUSY_MS", 10000)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("YIMEN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
        "BPMN_MAX_FILE_BYTES": int(os.environ.get("YIMEN_BPMN_MAX_FILE_BYTES", 5 * 1024 * 1024)),
        # The embedded default runs the timer scheduler inside the web process.
        "SCHEDULER_ENABLED": _bool("YIMEN_SCHEDULER", False),
        "SCHEDULER_INTERVAL_SECONDS": float(os.environ.get("YIMEN_SCHEDULER_INTERVAL", 2)),
        # behind N reverse proxies, the client's address is taken from X-Forwarded-For
        "PROXY_HOPS": int(os.environ.get("YIMEN_PROXY_HOPS", 0)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure by default; an intranet served over plain http must set YIMEN_SECURE_COOKIES=0.
        "SESSION_COOKIE_SECURE": _bool("YIMEN_SECURE_COOKIES", True),
        "REMEMBER_COOKIE_SECURE": _bool("YIMEN_SECURE_COOKIES", True),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # a staff login ends after this long without a request, and this long after login
        "SESSION_IDLE_MINUTES": float(os.environ.get("YIMEN_SESSION_IDLE_MINUTES", 30)),
        "SESSION_MAX_HOURS": float(os.environ.get("YIMEN_SESSION_MAX_HOURS", 12)),
        # an API token's lifetime unless `tokens create --days N` says otherwise
        "API_TOKEN_DAYS": int(os.environ.get("YIMEN_API_TOKEN_DAYS", 90)),
        "CENTER_NAME": os.environ.get("YIMEN_CENTER_NAME", "一门政务服务中心"),
        # 红黑榜 weights and thresholds (docs/STATISTICS.md), a JSON object
        "RANKING_RULES": _json_object("YIMEN_RANKING_RULES"),
        "TIMEZONE": os.environ.get("YIMEN_TIMEZONE", "Asia/Shanghai"),
        # a case accepted after this local time starts its clock on the next working day
        "OFFICE_HOURS_END": os.environ.get("YIMEN_OFFICE_HOURS_END", "17:30"),
        "CENTER_PHONE": os.environ.get("YIMEN_CENTER_PHONE") or None,
        # 电子监察: the center's 黄牌/红牌 rules (share:0.8 | left:2 | overdue), red-card points
        "WARN_YELLOW": os.environ.get("YIMEN_WARN_YELLOW", "share:0.8"),
        "WARN_RED": os.environ.get("YIMEN_WARN_RED", "overdue"),
        "RED_POINTS_DEPARTMENT": float(os.environ.get("YIMEN_RED_POINTS_DEPARTMENT", 1)),
        "RED_POINTS_PERSON": float(os.environ.get("YIMEN_RED_POINTS_PERSON", 1)),
        # public document verification: wrong codes per client before a pause
        "VERIFY_MAX_FAILURES": int(os.environ.get("YIMEN_VERIFY_MAX_FAILURES", 10)),
        "VERIFY_WINDOW_SECONDS": int(os.environ.get("YIMEN_VERIFY_WINDOW_SECONDS", 600)),
    }
