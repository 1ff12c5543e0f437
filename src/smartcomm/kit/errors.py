"""Domain errors carry their HTTP status: the API renders them as JSON, the UI as a toast or a form error."""

from __future__ import annotations

from dataclasses import dataclass, field

from smartcomm.kit.i18n import lazy


@dataclass
class FieldError:
    """One problem with one input field; `field` is a dotted path such as `customers[3].email`."""

    field: str
    message: str
    code: str = "invalid"


@dataclass
class DomainError(Exception):
    message: str
    status_code: int = 400
    code: str = "bad_request"
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    def __init__(self, what: str, identifier: object | None = None) -> None:
        text = f"{what} not found" if identifier is None else f"{what} {identifier} not found"
        super().__init__(text, status_code=404, code="not_found")


class Conflict(DomainError):
    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, status_code=409, code="conflict", errors=errors or [])


class InvalidInput(DomainError):
    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, status_code=422, code="invalid_input", errors=errors or [])

    @classmethod
    def for_field(cls, field_path: str, message: str) -> InvalidInput:
        return cls(f"{field_path}: {message}", [FieldError(field_path, message)])


class Forbidden(DomainError):
    def __init__(self, message: str = lazy("You do not have permission to do this")) -> None:
        super().__init__(message, status_code=403, code="forbidden")


class Unauthorized(DomainError):
    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message, status_code=401, code="unauthorized")


def location_to_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """A pydantic error location as a readable field path: ('body', 'items', 3, 'sku') -> items[3].sku."""
    parts: list[str] = []
    for item in location:
        if item in ("body", "query", "path", "header", "form") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "request"
