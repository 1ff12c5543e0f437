"""The shape of a poll: its questions (a JSON document on the poll) and the answers a customer gives.

Question ids, option ids and row ids are short slugs chosen by the editor (`q1`, `a2`…); they stay the same
when questions are reordered or reworded, so answers already given keep their meaning.

A question is shown when every one of its conditions holds; a condition names an earlier choice question
(single, multiple or matrix) and holds when the answer to it includes any of the listed options (for a
matrix: any of its rows was answered with one of them). A hidden question is neither asked nor required.

Answers, by question type: single → an option id; multiple → a list of option ids; matrix → {row id:
option id}; open → a text. Text blocks take no answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartcomm.kit.types import InputModel

if TYPE_CHECKING:
    from smartcomm.models import Poll

QuestionType = Literal["single", "multiple", "matrix", "open", "text"]
CHOICE_TYPES = frozenset({"single", "multiple", "matrix"})
MAX_QUESTIONS = 100
MAX_OPTIONS = 50
MAX_ROWS = 30
MAX_OPEN_ANSWER = 4000
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Answer = str | list[str] | dict[str, str]


class Choice(InputModel):
    """An answer option of a choice question, or a row (sub-question) of a matrix."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Slug
    label: Label


class Condition(InputModel):
    """Show the question only when the answer to `question` includes one of `options`."""

    model_config = ConfigDict(extra="forbid")

    question: Slug
    options: list[Slug] = Field(min_length=1, max_length=MAX_OPTIONS)


class Question(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Slug
    type: QuestionType
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=2000)
    required: bool = False
    options: list[Choice] = Field(default_factory=list, max_length=MAX_OPTIONS)
    rows: list[Choice] = Field(default_factory=list, max_length=MAX_ROWS)
    max_choices: int | None = Field(default=None, ge=1, le=MAX_OPTIONS, description="Multiple choice only")
    conditions: list[Condition] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _fits_its_type(self) -> Question:
        choice = self.type in CHOICE_TYPES
        if choice and len(self.options) < 2:
            raise ValueError("a choice question needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a question of type {self.type} has no options")
        if (self.type == "matrix") != bool(self.rows):
            raise ValueError("a matrix needs rows (sub-questions); other types have none")
        if self.max_choices is not None and (self.type != "multiple" or self.max_choices > len(self.options)):
            raise ValueError("max_choices is for multiple choice, at most the number of options")
        if self.type == "text" and self.required:
            raise ValueError("a text block takes no answer and cannot be required")
        _unique("options", [o.id for o in self.options])
        _unique("rows", [r.id for r in self.rows])
        return self

    @property
    def option_ids(self) -> list[str]:
        return [option.id for option in self.options]


class PollContent(InputModel):
    """The questions of a poll, checked as a whole: unique ids, conditions on earlier choice questions
    and on options those questions have."""

    model_config = ConfigDict(extra="forbid")

    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)

    @model_validator(mode="after")
    def _conditions_look_back(self) -> PollContent:
        _unique("questions", [q.id for q in self.questions])
        earlier: dict[str, Question] = {}
        for index, question in enumerate(self.questions):
            for condition in question.conditions:
                _check_condition(index, condition, earlier)
            earlier[question.id] = question
        return self


def _check_condition(index: int, condition: Condition, earlier: dict[str, Question]) -> None:
    target = earlier.get(condition.question)
    if target is None:
        raise ValueError(
            f"questions[{index}]: a condition may only name an earlier question, not {condition.question!r}"
        )
    if target.type not in CHOICE_TYPES:
        raise ValueError(f"questions[{index}]: a condition needs a choice question, {target.id!r} is not one")
    unknown = sorted(set(condition.options) - set(target.option_ids))
    if unknown:
        raise ValueError(f"questions[{index}]: question {target.id!r} has no option {', '.join(unknown)}")


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what}: the id {item!r} is used twice")
        seen.add(item)


class PollIn(InputModel):
    """A poll as created or updated: name, description, questions and the thank-you text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    description: str | None = Field(default=None, max_length=2000)
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)
    thank_you: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _questions_hold_together(self) -> PollIn:
        PollContent(questions=self.questions)
        return self


class PollOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    description: str | None
    questions: list[dict[str, Any]]
    closed: bool
    thank_you: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PollRow:
    """A line of the polls list: the poll, its number of questions, customers invited and respondents."""

    poll: Poll
    question_count: int
    invited: int
    respondents: int


@dataclass(frozen=True, slots=True)
class PollTotals:
    """The polls list's header: polls (open, closed), customers invited and responses over all polls."""

    polls: int
    open: int
    closed: int
    invited: int
    respondents: int


def questions_of(poll: Poll) -> list[Question]:
    """The poll's stored questions as typed questions (the stored document was validated on save)."""
    return [Question.model_validate(question) for question in poll.questions or []]


class PollListItemOut(PollOut):
    """A poll in the API's list, with the customers invited and the respondents."""

    invited: int
    respondents: int


class PollResponseOut(BaseModel):
    """One customer's response: the answers by question id (an option id, a list of them, {row: option}
    or a text) and the message and source the link came by."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    poll_id: int
    customer_id: int
    completed_at: datetime
    answers: dict[str, Any]
    message_id: int | None
    source_kind: str | None
    source_id: int | None


class CustomerPollResponseOut(PollResponseOut):
    """A response in a customer's list, with its poll's code and name."""

    poll_code: str
    poll_name: str
