"""Input types that keep bad values away from the database: bounded integers, page numbers, text without
NUL characters and JSON objects of bounded size and depth.

Both databases refuse some values that Python and JSON accept: integers beyond 64 bits (SQLite raises
OverflowError, PostgreSQL "out of range"), NUL characters in text (PostgreSQL), NaN and infinities (every
JSON column: they are not JSON). Input models and route parameters use these types so that such values
are refused as a 422 naming the field, before any statement is built.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Annotated, Any, Self

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

# The largest value of a signed 64-bit column (BIGINT on PostgreSQL, INTEGER on SQLite).
MAX_INT64 = 2**63 - 1
# Page numbers beyond this are refused by the API and clamped by the back office: a page number times a
# page size must stay a small OFFSET.
MAX_PAGE = 10_000_000
# JSON objects kept as sent (event context, web event context, Segment traits and properties).
MAX_JSON_BYTES = 16 * 1024
MAX_JSON_DEPTH = 5

NUL_MESSAGE = "must not contain NUL characters"
NO_NUL_PATTERN = r"^[^\x00]*$"


def no_nul(value: str) -> str:
    """Refuses text holding a NUL character (PostgreSQL cannot store one)."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", NUL_MESSAGE)
    return value


def _nested_nul(value: Any) -> bool:
    """Whether a text anywhere in the data (keys included) holds NUL; walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


def check_json(value: Any, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Refuses JSON data that is not storable as JSON, too deep, too large or holding NUL characters."""
    problem = _json_problem(value, max_depth)
    if problem is not None:
        raise problem
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > max_bytes:
        raise PydanticCustomError(
            "json_too_large",
            "is {size} bytes as JSON; the limit is {limit} bytes",
            {"size": size, "limit": max_bytes},
        )
    return value


def _json_problem(value: Any, max_depth: int) -> PydanticCustomError | None:
    """The first problem met walking the data once, without recursion: depth, a non-finite number, NUL."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return PydanticCustomError("nul_character", NUL_MESSAGE)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return PydanticCustomError(
                    "finite_number", "holds a number that is not finite (NaN or an infinity)"
                )
        elif isinstance(item, (Mapping, list, tuple)):
            if depth >= max_depth:
                return PydanticCustomError(
                    "json_too_deep", "nests deeper than {limit} levels", {"limit": max_depth}
                )
            children = [*item.keys(), *item.values()] if isinstance(item, Mapping) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    return check_json(value)  # type: ignore[no-any-return]


# A JSON object kept as sent: at most MAX_JSON_BYTES serialised, MAX_JSON_DEPTH levels deep (the object
# itself is the first level), finite numbers, no NUL characters.
JsonObject = Annotated[dict[str, Any], AfterValidator(_check_json_object)]
# Text without NUL characters.
Text = Annotated[str, AfterValidator(no_nul)]
# A row id as a body field: positive and within 64 bits.
RowId = Annotated[int, Field(ge=1, le=MAX_INT64)]

# Route parameters (FastAPI): they carry their bounds into the OpenAPI schema.
PathId = Annotated[int, Path(ge=1, le=MAX_INT64, description="The platform's id")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")]


class InputModel(BaseModel):
    """Base of request bodies: no text field (nor any text inside a list or an object) holds NUL.

    One check per model rather than a validator per field: intake bodies hold thousands of items.
    """

    @model_validator(mode="after")
    def _no_nul(self) -> Self:
        for name, value in self.__dict__.items():
            if isinstance(value, (str, Mapping, list, tuple)) and _nested_nul(value):
                error = InitErrorDetails(
                    type=PydanticCustomError("nul_character", NUL_MESSAGE), loc=(name,), input=value
                )
                raise ValidationError.from_exception_data(type(self).__name__, [error])
        return self
