"""资料共享库: materials accepted and results issued, kept per applicant for reuse."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.cases import Case, CaseDocument
from workflows.db import Base
from workflows.timeutil import utcnow

ENTRY_KINDS = {"material": "申请材料", "result": "办理结果"}


class LibraryEntry(Base):
    """One material (a stored file) or one result (a decision) of an applicant.

    The holder is the ID card number (person) or the 统一社会信用代码 (company), as the
    case recorded it; a file is the same blob the case holds, never a copy.
    """

    __tablename__ = "library_entry"
    __table_args__ = (Index("ix_library_entry_holder", "holder_type", "holder_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_type: Mapped[str] = mapped_column(String(16))
    holder_id_number: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # material | result
    name: Mapped[str] = mapped_column(String(200))
    item_code: Mapped[str] = mapped_column(String(40))
    item_name: Mapped[str] = mapped_column(String(200))
    blob_sha256: Mapped[str | None] = mapped_column(ForeignKey("blob.sha256"))
    filename: Mapped[str | None] = mapped_column(String(200))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_document.id", ondelete="CASCADE")
    )
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # None: no expiry
    source_case_id: Mapped[int] = mapped_column(
        ForeignKey("case_file.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    consent_withdrawn_at: Mapped[datetime | None]

    source_case: Mapped[Case] = relationship()
    document: Mapped[CaseDocument | None] = relationship()
    uses: Mapped[list[LibraryUse]] = relationship(
        back_populates="entry", order_by="LibraryUse.id", cascade="all, delete-orphan"
    )

    @property
    def kind_zh(self) -> str:
        return ENTRY_KINDS.get(self.kind, self.kind)

    @property
    def consented(self) -> bool:
        return self.consent_withdrawn_at is None


class LibraryUse(Base):
    """A case's material satisfied from the library (one entry per material)."""

    __tablename__ = "library_use"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("library_entry.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    case_material_id: Mapped[int] = mapped_column(
        ForeignKey("case_material.id", ondelete="CASCADE"), unique=True
    )
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_by: Mapped[str | None] = mapped_column(String(80))

    entry: Mapped[LibraryEntry] = relationship(back_populates="uses")
    case: Mapped[Case] = relationship()
