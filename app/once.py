"""Creating once: a double submission (a second click, a retried request) must not
make a second case.

Create forms carry a one-time nonce (``form_nonce``), spent by ``spend_nonce`` in
the transaction that creates: the second submission finds it spent (or waits on
the first's row and then finds it so). API creates take an ``Idempotency-Key``:
the same key from the same caller gets the stored answer; another request under
that key is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, DomainError
from app.models.once import IdempotentAnswer, SpentNonce

MAX_KEY = 200


class AlreadySubmitted(Conflict):
    """The form was submitted before: nothing was created this time."""

    code = "already_submitted"


class KeyReused(DomainError):
    """An ``Idempotency-Key`` reused for a different request."""

    code = "idempotency_key_reused"
    status = 422


def form_nonce() -> str:
    return secrets.token_urlsafe(24)


def spend_nonce(session, nonce: str | None) -> None:
    """Spend a create form's nonce in the caller's transaction, or raise AlreadySubmitted."""
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 64:
        raise AlreadySubmitted("表单已过期，请刷新页面后重新提交。")
    try:
        with session.begin_nested():
            session.add(SpentNonce(nonce=nonce))
    except IntegrityError:
        raise AlreadySubmitted("该表单已经提交过，没有再次登记（请勿重复提交）。") from None


def request_digest(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def stored_answer(session, user_id: int, key: str, digest: str) -> IdempotentAnswer | None:
    """The answer given before to this key, or None; a different request under it is refused."""
    if not key or len(key) > MAX_KEY:
        raise KeyReused(f"Idempotency-Key 须为 1–{MAX_KEY} 个字符。")
    answer = session.scalars(
        select(IdempotentAnswer).where(
            IdempotentAnswer.user_id == user_id, IdempotentAnswer.key == key
        )
    ).first()
    if answer is not None and answer.request_digest != digest:
        raise KeyReused("该 Idempotency-Key 已用于另一个请求。")
    return answer


def claim_key(session, user_id: int, key: str, digest: str) -> bool:
    """Hold the key for this request in the caller's transaction (False: another request
    under it committed first; ``stored_answer`` then gives its answer)."""
    try:
        with session.begin_nested():
            session.add(IdempotentAnswer(user_id=user_id, key=key, request_digest=digest, status=0))
    except IntegrityError:
        return False
    return True


def keep_answer(session, user_id: int, key: str, status: int, body: dict) -> None:
    answer = session.get(IdempotentAnswer, (user_id, key))
    answer.status, answer.body = status, body
