"""Compiling template parts and rendering them within the budget, with errors that name the line.

Compiling costs about as much as a hundred renders, so compiled parts are kept: the renderer caches
them per template version (versions never change), and this module never compiles the same source
twice in a row for a preview either (a small cache keyed by the source itself).
"""

from __future__ import annotations

import threading
import traceback
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar, cast

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import TemplateError

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import BudgetExceeded, RenderError
from smartcomm.personalization.runtime import RenderState, enter, leave
from smartcomm.personalization.sandbox import environment

OUTPUT_BLOCK = 64  # output chunks taken between two checks of the output's size
KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")


class LruCache(Generic[KeyT, ValueT]):
    """A small thread-safe LRU map (renders run in several worker threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[KeyT, ValueT] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: KeyT) -> ValueT | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: KeyT, value: ValueT) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class CompiledPart:
    part: str  # subject, html, text, body, title, …
    template: Template


def compile_part(part: str, source: str, *, html: bool = False) -> CompiledPart:
    """Compile one part (HTML parts autoescape). Raises RenderError with the line on a syntax error."""
    name = f"{part}.html" if html else part
    try:
        code = environment.compile(source, name=name, filename=f"<{part}>")
    except TemplateSyntaxError as error:
        raise RenderError(error.message or str(error), "syntax", line=error.lineno).located(part) from None
    template = environment.template_class.from_code(environment, code, environment.make_globals(None), None)
    # Every render copies the globals into its context: a plain dict copies in C, a ChainMap key by key.
    template.globals = dict(template.globals)
    return CompiledPart(part, template)


_drafts: LruCache[tuple[str, bool, str], CompiledPart] = LruCache(64)


def compile_draft(part: str, source: str, *, html: bool = False) -> CompiledPart:
    """Compile a part that belongs to no saved version (previews while editing), cached by its source."""
    key = (part, html, source)
    compiled = _drafts.get(key)
    if compiled is None:
        compiled = compile_part(part, source, html=html)
        _drafts.put(key, compiled)
    return compiled


def render_part(compiled: CompiledPart, variables: Mapping[str, Any], state: RenderState) -> str:
    """Render one part within a fresh budget; any failure becomes a RenderError naming part and line."""
    template = compiled.template
    state.fresh_budget()
    token = enter(state)
    try:
        # new_context copies the variables into the render's own context: a Mapping is enough.
        chunks = template.root_render_func(template.new_context(cast(dict[str, Any], variables)))
        return _bounded_output(chunks, state.limits.max_output)
    except RenderError as error:
        raise error.located(compiled.part, template_line(template, error)) from None
    except Exception as error:  # a template's own mistake: wrong types, division by zero, …
        raise RenderError(describe(error), "render_error").located(
            compiled.part, template_line(template, error)
        ) from None
    finally:
        leave(token)


def _bounded_output(chunks: Iterator[str], limit: int) -> str:
    """The output, stopped as soon as it passes `limit` characters. Chunks are taken some at a time and
    measured before they are joined (a Python step per chunk would cost a fifth of a render); one chunk
    is one expression's value, which the sandbox's size checks bound."""
    kept: list[str] = []
    size = 0
    while True:
        taken = list(islice(chunks, OUTPUT_BLOCK))
        if not taken:
            return "".join(kept)
        size += sum(map(len, taken))
        if size > limit:
            raise BudgetExceeded(
                lazy("the output is longer than %(limit)s characters"), "output_limit", limit=f"{limit:,}"
            )
        kept += taken


def template_line(template: Template, error: BaseException) -> int | None:
    """The template line where `error` happened: the innermost frame of the template's own code."""
    line = None
    for frame, python_line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == template.filename:
            line = template.get_corresponding_lineno(python_line)
    return line


def describe(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return str(lazy("the template calls itself too deeply"))
    if isinstance(error, MemoryError):
        return str(lazy("the template needs too much memory"))
    if isinstance(error, TemplateError):
        return error.message or type(error).__name__
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
