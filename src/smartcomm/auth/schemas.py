"""Input and output shapes of staff users."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from smartcomm.auth.permissions import Role

LanguageCode = Literal["en", "ru"]
MIN_PASSWORD_LENGTH = 8


def _strip(value: str) -> str:
    return value.strip()


class UserCreate(BaseModel):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    language: LanguageCode = "en"
    is_active: bool = True
    expires_on: date | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=128)

    _strip_name = field_validator("full_name")(_strip)


class UserUpdate(BaseModel):
    email: EmailStr | None = None
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    language: LanguageCode | None = None
    is_active: bool | None = None
    expires_on: date | None = None

    _strip_name = field_validator("full_name")(lambda v: v.strip() if v else v)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=128)


class AccountUpdate(BaseModel):
    full_name: str = Field(min_length=1, max_length=200)
    language: LanguageCode


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    language: str
    is_active: bool
    expires_on: date | None
    created_at: datetime
    last_login_at: datetime | None


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, description="E-mail of a user with the API role")
    password: str = Field(min_length=1)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_in: int
