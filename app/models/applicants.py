"""Applicants' accounts on the 网上办事大厅 and the identities they log in with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.cases import Case, CasePackage
from app.models.items import Item, ItemPackage
from workflows.db import Base
from workflows.timeutil import utcnow

APPLICANT_KINDS = {"person": "个人", "company": "法人"}
PASSWORD_PROVIDER = "password"


class Applicant(Base):
    """A person (ID card number) or a company (统一社会信用代码) who applies online.

    Who they are lives here; how they prove it lives in ``ApplicantIdentity``, so a
    provincial unified identity login (OIDC) is one more identity row, not a new account.
    """

    __tablename__ = "applicant"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    # the ID card number (person) or the unified social credit code (company), upper case
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    legal_person: Mapped[str | None] = mapped_column(String(50))  # company only
    contact: Mapped[str | None] = mapped_column(String(50))  # company only
    active: Mapped[bool] = mapped_column(default=True)
    # 实名核验: set when the window saw the ID card, or a case received for this number
    # was linked with its query password; until then only their own online cases show
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[ApplicantIdentity]] = relationship(
        back_populates="applicant", cascade="all, delete-orphan"
    )

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def kind_zh(self) -> str:
        return APPLICANT_KINDS.get(self.kind, self.kind)


class ApplicantIdentity(Base):
    """One way an applicant logs in: ``password`` (subject: the ID number) or, later, an
    OIDC provider (subject: its ``sub`` claim)."""

    __tablename__ = "applicant_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(
        ForeignKey("applicant.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # set by a window clerk's reset: the password is one-time and must be changed
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    applicant: Mapped[Applicant] = relationship(back_populates="identities")


class OnlineApplication(Base):
    """An application filled on the portal: a draft (暂存) until submitted, then a case.

    ``data`` holds the item's intake form answers; ``materials`` the files uploaded per
    item material, ``{"<item material id>": {"sha256": …, "filename": …}}``. ``revision``
    grows with each update, so a page opened before another save is refused.
    """

    __tablename__ = "online_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(
        ForeignKey("applicant.id", ondelete="CASCADE"), index=True
    )
    # one item, or a 一件事 package (then ``materials`` are keyed by each shared
    # material's first item material id, see app/cases/packages.py)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("item_package.id"))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    contact_name: Mapped[str | None] = mapped_column(String(80))
    data: Mapped[dict] = mapped_column(default=dict)
    materials: Mapped[dict] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(default=0)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    applicant: Mapped[Applicant] = relationship()
    item: Mapped[Item | None] = relationship()
    package: Mapped[ItemPackage | None] = relationship()
    case: Mapped[Case | None] = relationship()
    package_case_id: Mapped[int | None] = mapped_column(ForeignKey("case_package.id"), unique=True)
    package_case: Mapped[CasePackage | None] = relationship()

    # every UPDATE checks and bumps the revision: of two submissions at once, one wins
    __mapper_args__ = {"version_id_col": revision}

    @property
    def submitted(self) -> bool:
        return self.case_id is not None or self.package_case_id is not None

    @property
    def title(self) -> str:
        return self.package.name if self.package is not None else self.item.name
