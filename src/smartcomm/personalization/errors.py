"""Errors of the template engine: a render that cannot finish, and a template refused on save.

The engine's own messages are translatable: they are `lazy(...)` strings with `%(name)s` parameters,
put into words in the language of whoever reads them (the designer's interface language on a page,
English for the API and in the worker). Messages that come from Jinja or Python are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.i18n import LazyString, lazy

LINE = lazy("line %(line)s: %(message)s")


def worded(message: str, params: dict[str, Any]) -> str:
    """A message in the current language: translated and filled in when it is one of the engine's."""
    if isinstance(message, LazyString):
        return str(message) % params
    return message


class RenderError(Exception):
    """A template could not be rendered for one recipient. `reason` is a stable code, `line` the
    template line where it happened (when known), `part` the part of the message (subject, html…)."""

    def __init__(
        self, message: str, reason: str = "render_error", *, line: int | None = None, **params: Any
    ) -> None:
        super().__init__(message)
        self.template = message
        self.params = params
        self.reason = reason
        self.line = line
        self.part: str | None = None

    @property
    def message(self) -> str:
        return worded(self.template, self.params)

    def located(self, part: str | None = None, line: int | None = None) -> RenderError:
        """The same error, told where it happened (the first location found wins)."""
        self.part = self.part or part
        self.line = self.line or line
        return self

    def __str__(self) -> str:
        where = f"{self.part}, line {self.line}" if self.part and self.line else self.part or ""
        return f"{where}: {self.message}" if where else self.message


class SandboxViolation(RenderError):
    """The template reached for something it may not touch (a private attribute, an unsafe method)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message, "sandbox", **params)


class BudgetExceeded(RenderError):
    """The render went past one of its limits (time, output size, loop iterations, recursion)."""

    def __init__(self, message: str, reason: str, **params: Any) -> None:
        super().__init__(message, reason, **params)


class HookUnavailable(RenderError):
    """A macro that a later area provides (promo codes, polls) is not available in this installation."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "hook_unavailable")


class RecipientSkipped(RenderError):
    """A macro has nothing to give this recipient (its promo code group is exhausted): the message is not
    sent, and `reason` — a reason of the send ledger — says why."""

    def __init__(self, message: str, reason: str, **params: Any) -> None:
        super().__init__(message, reason, **params)


@dataclass(frozen=True)
class Problem:
    """One problem found in a template on save: the part, the line (1-based) and the reason."""

    part: str
    line: int | None
    message: str
    code: str = "invalid_template"

    @classmethod
    def of(cls, error: RenderError, part: str) -> Problem:
        return cls(error.part or part, error.line, error.message, error.reason)

    def as_field_error(self, prefix: str = "") -> FieldError:
        text = str(LINE) % {"line": self.line, "message": self.message} if self.line else self.message
        return FieldError(f"{prefix}{self.part}", text, self.code)


class TemplateInvalid(InvalidInput):
    """The template was refused on save; every problem names its part (as a field path under `prefix`,
    e.g. `content.subject`) and its line."""

    def __init__(self, problems: list[Problem], prefix: str = "content.") -> None:
        super().__init__("The template has errors", [p.as_field_error(prefix) for p in problems])
        self.problems = problems
