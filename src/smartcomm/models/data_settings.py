"""Data settings: field definitions per object, dictionaries and mailing categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base
from smartcomm.kit.time import utcnow

FIELD_OBJECTS = ("customer", "receipt", "receipt_line", "product", "category")
FIELD_TYPES = ("string", "integer", "decimal", "boolean", "date", "datetime")
UNSUBSCRIBE_REASONS_CODE = "unsubscribe_reasons"


class FieldDefinition(Base):
    """A system or custom field of an object: its code (the API name), display name, type and orders."""

    __tablename__ = "field_definitions"
    __table_args__ = (UniqueConstraint("object", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    is_system: Mapped[bool] = mapped_column(default=False)
    group: Mapped[str | None] = mapped_column(String(64))
    profile_order: Mapped[int] = mapped_column(default=0)
    builder_order: Mapped[int] = mapped_column(default=0)
    show_in_profile: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dictionary(Base):
    """A key–value list (the system one holds the reasons offered on the unsubscribe page)."""

    __tablename__ = "dictionaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_system: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DictionaryItem(Base):
    __tablename__ = "dictionary_items"
    __table_args__ = (UniqueConstraint("dictionary_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dictionary_id: Mapped[int] = mapped_column(ForeignKey("dictionaries.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(default=0)


class MailingCategory(Base):
    """A category customers subscribe to per channel; mailings and campaign messages may require one."""

    __tablename__ = "mailing_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
