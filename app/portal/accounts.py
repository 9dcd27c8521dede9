"""Applicants' accounts: registration, password login (throttled like staff logins),
password changes and a window clerk's one-time password. Plain values in and out."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app.auth.services import (
    LoginRefused,
    equalise_timing,
    hash_password,
    longest_wait,
    password_matches,
    record_failure,
)
from app.cases.identity import credit_code_problem, id_card_problem, phone_problem
from app.errors import DomainError
from app.models.applicants import PASSWORD_PROVIDER, Applicant, ApplicantIdentity
from workflows.timeutil import utcnow

# login failures share the staff table; this prefix keeps the two kinds of account apart
FAILURE_PREFIX = "portal:"
MIN_PASSWORD = 8


class RegistrationRefused(DomainError):
    """A registration that cannot be accepted; ``field`` names the form field at fault."""


def normalize_number(number: str) -> str:
    return (number or "").strip().upper()


def _password_problem(password: str, number: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位。"
    if number and number in password:
        return "密码不能包含证件号码。"
    return None


def register(session, values: dict) -> Applicant:
    """A new applicant (``kind`` person or company) with a password identity."""
    kind = values["kind"]
    number = normalize_number(values["id_number"])
    problem = credit_code_problem(number) if kind == "company" else id_card_problem(number)
    if problem:
        raise RegistrationRefused(problem, "id_number")
    if problem := phone_problem(values["phone"]):
        raise RegistrationRefused(problem, "phone")
    if kind == "company" and not (values.get("legal_person") or "").strip():
        raise RegistrationRefused("请填写法定代表人姓名。", "legal_person")
    if problem := _password_problem(values["password"], number):
        raise RegistrationRefused(problem, "password")
    if session.scalar(select(Applicant.id).where(Applicant.id_number == number)) is not None:
        label = "该统一社会信用代码" if kind == "company" else "该身份证号码"
        raise RegistrationRefused(
            f"{label}已注册。忘记密码的，请持证件到政务服务中心窗口重置。", "id_number"
        )
    applicant = Applicant(
        kind=kind,
        name=values["name"].strip(),
        id_number=number,
        phone=values["phone"].strip(),
        legal_person=(values.get("legal_person") or "").strip() or None
        if kind == "company"
        else None,
        contact=(values.get("contact") or "").strip() or None if kind == "company" else None,
    )
    applicant.identities.append(
        ApplicantIdentity(
            provider=PASSWORD_PROVIDER,
            subject=number,
            password_hash=hash_password(values["password"]),
        )
    )
    session.add(applicant)
    session.flush()
    return applicant


def password_identity(session, number: str) -> ApplicantIdentity | None:
    return session.scalars(
        select(ApplicantIdentity).where(
            ApplicantIdentity.provider == PASSWORD_PROVIDER,
            ApplicantIdentity.subject == normalize_number(number),
        )
    ).first()


def _verifies(identity: ApplicantIdentity, password: str) -> bool:
    return password_matches(identity.password_hash, password)


def authenticate(session, number: str, password: str, ip: str) -> ApplicantIdentity:
    """The identity for an ID number and password; throttled by address and account like
    staff logins. Raises LoginRefused (429 while throttled)."""
    now = utcnow()
    key = FAILURE_PREFIX + normalize_number(number)[:18]
    throttled = longest_wait(session, key, ip, now)
    if throttled is not None:
        throttle, wait = throttled
        raise LoginRefused(f"登录失败次数过多，请 {throttle.words(wait)}后再试。", status=429)
    identity = password_identity(session, number)
    if identity is None or identity.password_hash is None:
        equalise_timing()
        identity = None
    if identity is None or not identity.applicant.active or not _verifies(identity, password):
        hint = record_failure(session, key, ip, now)
        session.commit()
        raise LoginRefused("证件号码或密码不正确。" + hint)
    return identity


def change_password(identity: ApplicantIdentity, current: str, new: str) -> None:
    if not _verifies(identity, current):
        raise RegistrationRefused("当前密码不正确。", "current")
    if problem := _password_problem(new, identity.subject):
        raise RegistrationRefused(problem, "new")
    if new == current:
        raise RegistrationRefused("新密码不能与当前密码相同。", "new")
    identity.password_hash = hash_password(new)
    identity.must_change_password = False


def reset_password(identity: ApplicantIdentity) -> str:
    """A one-time password set at the window; the applicant must change it at next login."""
    password = secrets.token_urlsafe(6)
    identity.password_hash = hash_password(password)
    identity.must_change_password = True
    return password


def verify(applicant: Applicant, by: str) -> None:
    """实名核验 at the window: the clerk saw the ID card (or the license and mandate)."""
    if applicant.verified_at is None:
        applicant.verified_at, applicant.verified_by = utcnow(), by
