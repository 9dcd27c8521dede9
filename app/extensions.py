"""Flask extensions, created here and initialised in the application factory."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event

from workflows.db import Base, ReadOnlyViolation, is_read_only

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


def writes_on_get(view):
    """Mark a view that writes even on GET: its transaction takes SQLite's write lock.

    Every other GET or HEAD request reads only (``workflows.db.read_only``); a flush
    there is a bug and raises ``ReadOnlyViolation``.
    """
    view.writes_on_get = True
    return view


def reads_only(view):
    """Mark a view that only reads even on POST (a public lookup): no write lock, no writes."""
    view.reads_only = True
    return view


@event.listens_for(db.session, "before_flush")
def _refuse_writes_when_read_only(session, _context, _instances):
    if is_read_only() and (session.new or session.dirty or session.deleted):
        raise ReadOnlyViolation("a read-only request tried to write; mark its view writes_on_get")
