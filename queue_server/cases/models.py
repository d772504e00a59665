"""Tables of the case workflow: item versions, cases, their history, materials, documents, deliveries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..timeutil import UTCDateTime


class CaseItem(SQLModel, table=True):
    """One version of a catalog item (事项); a case keeps the version it was accepted under."""

    __tablename__ = "case_item"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, index=True)
    version: int
    name: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    domain: str = Field(max_length=32)
    domain_en: str = Field(max_length=64)
    data: str = Field(sa_column=Column(Text, nullable=False))  # the item as JSON (catalog.Item)
    digest: str = Field(max_length=64)  # SHA-256 of the canonical JSON
    source: str = Field(max_length=16)  # "file" (synced at start-up) | "admin" (created through the API)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=64)


class Case(SQLModel, table=True):
    """A case (办件): from submission through acceptance, decision and delivery."""

    __tablename__ = "hall_case"
    __table_args__ = (
        UniqueConstraint("hall_code", "submission_id"),
        Index("ix_hall_case_status", "hall_code", "status", "deadline"),
        Index("ix_hall_case_person", "hall_code", "id_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=24, unique=True)  # 办件编号, e.g. T1202611270001
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    item_id: int = Field(foreign_key="case_item.id")
    situation: str = Field(max_length=32)
    status: str = Field(max_length=32)
    channel: str = Field(max_length=16)  # kiosk | counter | web
    submission_id: str | None = Field(default=None, max_length=64)  # the kiosk outbox's idempotency key
    query_token: str = Field(max_length=32, unique=True)  # printed on the receipt: proof for the public query
    name_enc: str = Field(sa_column=Column(Text, nullable=False))
    name_masked: str = Field(max_length=64)
    id_enc: str = Field(sa_column=Column(Text, nullable=False))
    id_hash: str = Field(max_length=64)
    id_masked: str = Field(max_length=24)
    id_last4_hash: str = Field(max_length=64)  # keyed hash of number + last four: the public query proof
    id_type: str = Field(default="resident", max_length=24)  # identity.IdType: the applicant's document
    nationality: str | None = Field(default=None, max_length=3)  # ISO 3166-1 alpha-3; a passport's always
    phone_enc: str | None = Field(default=None, sa_column=Column(Text))
    phone_masked: str | None = Field(default=None, max_length=16)
    form_enc: str = Field(sa_column=Column(Text, nullable=False))  # the form's answers, encrypted JSON
    ticket_id: int | None = None  # the ticket at whose call the case was taken in
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    time_limit_days: int = 0
    deadline: date | None = None  # last working day of the promised time limit
    supplement_deadline: date | None = None  # 容缺: materials to follow by this day
    decision: str | None = Field(default=None, max_length=16)  # approved | refused
    decision_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    handover_id: int | None = Field(default=None, foreign_key="case_handover.id")
    pickup_code_hash: str | None = Field(default=None, max_length=64, unique=True)
    smart_result: str | None = Field(default=None, sa_column=Column(Text))  # 秒批秒办: the rules' outcome (JSON)
    prereview_notice: str | None = Field(default=None, sa_column=Column(Text))  # 网上预审: the last return (JSON)
    appointment_code: str | None = Field(default=None, max_length=16)  # the slot a passed web case booked
    chain_id: int | None = Field(default=None, foreign_key="case_chain.id", index=True)  # 一链办理: its chain
    lang: str | None = Field(default=None, max_length=8)  # the applicant's language: messages, receipt (issue 22)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CaseChain(SQLModel, table=True):
    """A chain application (一链办理): several items applied for at once, one case per item (its members)."""

    __tablename__ = "case_chain"
    __table_args__ = (UniqueConstraint("hall_code", "submission_id"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=24, unique=True)  # e.g. L6742612060001
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    code: str = Field(max_length=32)  # the chain's catalogue code
    name: str = Field(max_length=100)
    name_en: str = Field(max_length=200)
    data: str = Field(sa_column=Column(Text, nullable=False))  # the chain as submitted under (JSON), item versions
    status: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    submission_id: str | None = Field(default=None, max_length=64)
    query_token: str = Field(max_length=32, unique=True)
    name_masked: str = Field(max_length=64)
    id_hash: str = Field(max_length=64)
    id_masked: str = Field(max_length=24)
    phone_enc: str | None = Field(default=None, sa_column=Column(Text))
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    ready_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    pickup_code_hash: str | None = Field(default=None, max_length=64, unique=True)
    result: str | None = Field(default=None, sa_column=Column(Text))  # the combined result (JSON)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CaseHistory(SQLModel, table=True):
    """One state change of a case: who, when, from, to, and a note."""

    __tablename__ = "case_history"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hall_case.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=64)
    actor_role: str = Field(max_length=16)
    action: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))


class CaseMaterial(SQLModel, table=True):
    """An uploaded material file, stored outside any web root under a random name."""

    __tablename__ = "case_material"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hall_case.id", index=True)
    material: str = Field(max_length=32)  # the material's code in the item's situation
    # a chain's shared material is one file named by a row in each member case (chains.py): not unique
    storage_name: str = Field(max_length=64, index=True)
    content_type: str = Field(max_length=32)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    uploaded_by: str = Field(max_length=64)


class CaseDocument(SQLModel, table=True):
    """A document issued for a case (受理凭证 …): its number and the non-personal fields to render it again."""

    __tablename__ = "case_document"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hall_case.id", index=True)
    kind: str = Field(max_length=40)
    document_no: str = Field(max_length=64)
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON fields (no name or ID number)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=64)


class CaseHandover(SQLModel, table=True):
    """A hand-over list (移交清单): a batch of accepted cases passed to the back office."""

    __tablename__ = "case_handover"

    id: int | None = Field(default=None, primary_key=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    number: str = Field(max_length=32, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=64)
    received_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    received_by: str | None = Field(default=None, max_length=64)
    document_id: int | None = None  # its 移交清单 (a case_document row)


class CaseDelivery(SQLModel, table=True):
    """How a result reached the citizen (统一出件): window pickup, EMS mailing or a self-service pickup code."""

    __tablename__ = "case_delivery"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hall_case.id", index=True)
    method: str = Field(max_length=16)  # window | ems | self_pickup
    status: str = Field(max_length=16)  # prepared | mailed | delivered
    ticket_number: str | None = Field(default=None, max_length=16)  # the pickup ticket at the output queue
    address_enc: str | None = Field(default=None, sa_column=Column(Text))
    recipient_masked: str | None = Field(default=None, max_length=64)
    waybill: str | None = Field(default=None, max_length=32)
    signed_by_masked: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=64)
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    delivered_by: str | None = Field(default=None, max_length=64)


class CaseCertificate(SQLModel, table=True):
    """An electronic certificate (电子证照) an approved case issued: its public code, what and to whom (masked),
    the signed PDF (encrypted: it carries the holder's name), and its revocation."""

    __tablename__ = "case_certificate"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="hall_case.id", index=True)
    hall_code: str = Field(foreign_key="hall.code", max_length=32)
    code: str = Field(max_length=48, unique=True)  # random, in the QR's /verify/<code>
    certificate_no: str = Field(max_length=64)  # 证照编号
    name: str = Field(max_length=60)
    name_en: str = Field(max_length=120)
    holder_masked: str = Field(max_length=64)
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON fields printed (no name or ID number)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    valid_until: date | None = None  # None: 长期有效
    issued_by: str = Field(max_length=64)
    pdf_enc: str | None = Field(default=None, sa_column=Column(Text))  # the signed PDF, encrypted (base64 inside)
    sha256: str | None = Field(default=None, max_length=64)  # of the signed PDF
    signer: str | None = Field(default=None, max_length=300)  # the signing certificate's subject
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_by: str | None = Field(default=None, max_length=64)
    revoke_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
