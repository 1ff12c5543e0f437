"""Input and output shapes of target audiences, their members and their CSV imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.types import InputModel, RowId

MAX_MEMBER_IDS = 10_000
NAME_LENGTH = 200


class IdType(StrEnum):
    """Which customer id the lines of an import file hold."""

    EXTERNAL_ID = "external_id"
    PLATFORM_ID = "platform_id"
    PHONE = "phone"
    EMAIL = "email"

    @property
    def label(self) -> LazyString:
        return ID_TYPE_LABELS[self]


ID_TYPE_LABELS: dict[IdType, LazyString] = {
    IdType.EXTERNAL_ID: lazy("External id (loyalty system)"),
    IdType.PLATFORM_ID: lazy("Platform id"),
    IdType.PHONE: lazy("Phone"),
    IdType.EMAIL: lazy("E-mail"),
}


class ImportMode(StrEnum):
    SINGLE = "single"  # one audience for the whole file: one id per line
    PER_ROW = "per_row"  # `id;Audience name` on every line


class AudienceIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    description: str | None = Field(default=None, max_length=1000)


class AudienceUpdate(InputModel):
    """Fields not sent stay as they are; a null description clears it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=NAME_LENGTH)
    description: str | None = Field(default=None, max_length=1000)


class AudienceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    member_count: int
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class CustomerAudienceOut(BaseModel):
    """An audience a customer belongs to, and since when."""

    id: int
    name: str
    added_at: datetime


ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class MembersIn(InputModel):
    """Customers named by their external ids or by their platform ids (one of the two lists)."""

    model_config = ConfigDict(extra="forbid")

    external_ids: list[ExternalId] | None = Field(default=None, max_length=MAX_MEMBER_IDS)
    customer_ids: list[RowId] | None = Field(default=None, max_length=MAX_MEMBER_IDS)

    @model_validator(mode="after")
    def _one_list(self) -> MembersIn:
        if (self.external_ids is None) == (self.customer_ids is None):
            raise ValueError("send either external_ids or customer_ids")
        return self


class MembersAddedOut(BaseModel):
    added: int
    already_members: int
    unknown: list[str | int] = Field(description="Ids that match no customer; nothing was done for them")
    member_count: int


class MembersRemovedOut(BaseModel):
    removed: int
    not_members: int
    unknown: list[str | int] = Field(description="Ids that match no customer")
    member_count: int


class MemberOut(BaseModel):
    customer_id: int
    external_id: str
    name: str
    phone: str | None
    email: str | None
    added_at: datetime


@dataclass(frozen=True)
class MemberRow:
    """A member as the lists show it: the customer and when they joined the audience."""

    customer_id: int
    external_id: str
    name: str
    phone: str | None
    email: str | None
    added_at: datetime

    def out(self) -> MemberOut:
        return MemberOut(**self.__dict__)


@dataclass(frozen=True)
class SegmentChange:
    """What adding or removing a segment's current members did."""

    changed: int
    member_count: int


class ImportRequest(BaseModel):
    """What the import form asks: the mode, the audience (existing or a new name) and the id type."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    mode: ImportMode = ImportMode.SINGLE
    id_type: IdType = IdType.EXTERNAL_ID
    audience_id: int | None = None
    new_name: str | None = Field(default=None, max_length=NAME_LENGTH)

    def target(self) -> tuple[int | None, str | None]:
        """(existing audience id, new audience name) for one audience per file; (None, None) per row."""
        if self.mode is ImportMode.PER_ROW:
            return None, None
        return (None, self.new_name) if self.new_name else (self.audience_id, None)


@dataclass(frozen=True)
class Unmatched:
    """A line of an import file that added nobody: its line number, the value as given and why."""

    row: int
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "value": self.value, "reason": self.reason}
