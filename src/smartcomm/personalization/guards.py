"""The guards the sandbox puts where values are made: operators, ranges, namespaces, buffers of macros
and blocks, loops, and the filters whose arguments could blow a value up.

Each checks what it would build before building it and charges the running render's budget
(personalization.limits); a value past a limit is a `BudgetExceeded` naming the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sized
from decimal import Decimal
from typing import Any, ClassVar, cast

from jinja2 import pass_context, pass_eval_context
from jinja2.filters import (
    do_batch,
    do_center,
    do_indent,
    do_join,
    do_replace,
    do_slice,
    do_tojson,
    do_wordwrap,
    make_attrgetter,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from jinja2.utils import Namespace
from markupsafe import Markup

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import BudgetExceeded, SandboxViolation
from smartcomm.personalization.limits import DEFAULT_LIMITS, RenderLimits
from smartcomm.personalization.runtime import current_budget

LOOP_GUARD = "sc_loop_guard"
# Loops over a sized sequence this short are charged at once instead of item by item (most template
# loops: receipts, lines, products); longer ones check the clock as they go.
PRECHARGED_LOOP = 32
SIZED = frozenset({list, tuple, range, dict, str})  # checked before the (slower) Sized ABC


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def check_printf(pattern: str, limits: RenderLimits) -> None:
    """Refuse `%` formats whose width or precision would pad a value into a huge string."""
    for match in _PRINTF.finditer(pattern):
        for number in match.groups():
            if number == "*":
                raise SandboxViolation(lazy("a %% format may not take its width from an argument"))
            if number is not None and int(number) > limits.max_width:
                raise BudgetExceeded(
                    lazy("a %% format is wider than %(limit)s characters"),
                    "size_limit",
                    limit=f"{limits.max_width:,}",
                )


def check_size(value: Any, limits: RenderLimits) -> None:
    """Refuse strings and lists above the limits (checked where values are made or handed on)."""
    if isinstance(value, str):
        if len(value) > limits.max_string:
            raise BudgetExceeded(
                lazy("a text of more than %(limit)s characters was made"),
                "size_limit",
                limit=f"{limits.max_string:,}",
            )
    elif isinstance(value, (list, tuple)) and len(value) > limits.max_items:
        raise BudgetExceeded(
            lazy("a list of more than %(limit)s items was made"), "size_limit", limit=f"{limits.max_items:,}"
        )


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


def _check_repeat(left: Any, right: Any, limits: RenderLimits) -> None:
    for sequence, times in ((left, right), (right, left)):
        size = _length(sequence)
        if size is not None and isinstance(times, int):
            limit = limits.max_string if isinstance(sequence, str) else limits.max_items
            if size * times > limit:
                raise BudgetExceeded(
                    lazy("repeating a value %(times)s times would make more than %(limit)s items"),
                    "size_limit",
                    times=f"{times:,}",
                    limit=f"{limit:,}",
                )


def _check_int_bits(bits: int, limits: RenderLimits) -> None:
    if bits > limits.max_int_bits:
        raise BudgetExceeded(
            lazy("the number would have more than %(limit)s binary digits"),
            "size_limit",
            limit=f"{limits.max_int_bits:,}",
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def guarded_binop(operator: str, left: Any, right: Any, limits: RenderLimits) -> None:
    """Check what an intercepted operator would build before it builds it."""
    if operator == "*":
        _check_repeat(left, right, limits)
        if _is_int(left) and _is_int(right):
            _check_int_bits(left.bit_length() + right.bit_length(), limits)
    elif operator == "**":
        if _is_int(left) and _is_int(right) and right > 0:
            _check_int_bits(max(left.bit_length(), 1) * right, limits)
        elif isinstance(left, Decimal) and _is_int(right) and abs(right) > limits.max_int_bits:
            _check_int_bits(abs(right), limits)
    elif operator == "+":
        sizes = (_length(left), _length(right))
        if sizes[0] is not None and sizes[1] is not None:
            limit = limits.max_string if isinstance(left, str) else limits.max_items
            if sizes[0] + sizes[1] > limit:
                raise BudgetExceeded(
                    lazy("joining two values would make more than %(limit)s items"),
                    "size_limit",
                    limit=f"{limit:,}",
                )
    elif operator == "%" and isinstance(left, str):
        check_printf(left, limits)


def safe_range(limits: RenderLimits) -> Callable[..., range]:
    def range_(*args: int) -> range:
        """`range()` of at most `max_range` numbers."""
        made = range(*args)
        if len(made) > limits.max_range:
            raise BudgetExceeded(
                lazy("range() of %(count)s numbers; at most %(limit)s are allowed"),
                "loop_limit",
                count=f"{len(made):,}",
                limit=f"{limits.max_range:,}",
            )
        return made

    return range_


class GuardedNamespace(Namespace):
    """`namespace()` whose attributes cannot be grown past the size limits by a loop."""

    limits: ClassVar[RenderLimits] = DEFAULT_LIMITS

    def __setitem__(self, name: str, value: Any) -> None:
        check_size(value, GuardedNamespace.limits)
        super().__setitem__(name, value)


class BoundedBuffer(list[str]):
    """The output buffer of macros, call blocks and `{% set %}` blocks: every character put into it is
    charged to the render's budget."""

    __slots__ = ()

    def append(self, item: str) -> None:
        current_budget().buffer(len(item))
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        current_budget().buffer(sum(len(item) for item in items))
        super().extend(items)


@pass_context
def loop_guard(_context: Context, iterable: Any) -> Iterable[Any]:
    """Put around the iterable of every `{% for %}`: counts iterations and checks the clock."""
    budget = current_budget()
    if iterable.__class__ in SIZED or (isinstance(iterable, Sized) and not isinstance(iterable, Undefined)):
        size = len(iterable)
        if size <= PRECHARGED_LOOP:
            budget.iterations_at_once(size)
            return cast(Iterable[Any], iterable)
    return _counted(iterable, budget)


def _counted(iterable: Iterable[Any], budget: Any) -> Iterator[Any]:
    for item in iterable:
        budget.iteration()
        yield item


# --- filters whose arguments could blow a value up --------------------------------------------------


def _check_width(width: Any, limits: RenderLimits, what: str) -> None:
    size = len(width) if isinstance(width, str) else width
    if isinstance(size, int) and size > limits.max_width:
        raise BudgetExceeded(
            lazy("%(what)s: at most %(limit)s characters"),
            "size_limit",
            what=what,
            limit=f"{limits.max_width:,}",
        )


def _check_count(count: Any, limits: RenderLimits, what: str) -> None:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= limits.max_range:
        raise BudgetExceeded(
            lazy("%(what)s takes a number from 1 to %(limit)s"),
            "size_limit",
            what=what,
            limit=f"{limits.max_range:,}",
        )


def _too_long(what: str, limits: RenderLimits) -> BudgetExceeded:
    return BudgetExceeded(
        lazy("%(what)s would make more than %(limit)s characters"),
        "size_limit",
        what=what,
        limit=f"{limits.max_string:,}",
    )


def _limits(context: EvalContext) -> RenderLimits:
    limits = getattr(context.environment, "limits", DEFAULT_LIMITS)
    return limits if isinstance(limits, RenderLimits) else DEFAULT_LIMITS


@pass_eval_context
def safe_center(eval_ctx: EvalContext, value: str, width: int = 80) -> str:
    _check_width(width, _limits(eval_ctx), "center()")
    return do_center(value, width)


@pass_eval_context
def safe_indent(
    eval_ctx: EvalContext, value: str, width: int | str = 4, first: bool = False, blank: bool = False
) -> str:
    limits = _limits(eval_ctx)
    _check_width(width, limits, "indent()")
    step = len(width) if isinstance(width, str) else int(width)
    if len(str(value)) + str(value).count("\n") * step > limits.max_string:
        raise _too_long("indent()", limits)
    return do_indent(value, width, first, blank)


@pass_eval_context
def safe_batch(eval_ctx: EvalContext, value: Iterable[Any], linecount: int, fill_with: Any = None) -> Any:
    _check_count(linecount, _limits(eval_ctx), "batch()")
    return do_batch(value, linecount, fill_with)


@pass_eval_context
def safe_slice(eval_ctx: EvalContext, value: Iterable[Any], slices: int, fill_with: Any = None) -> Any:
    _check_count(slices, _limits(eval_ctx), "slice()")
    return do_slice(value, slices, fill_with)


@pass_eval_context
def safe_replace(eval_ctx: EvalContext, value: str, old: str, new: str, count: int | None = None) -> str:
    limits = _limits(eval_ctx)
    text, old_text, new_text = str(value), str(old), str(new)
    occurrences = len(text) + 1 if not old_text else text.count(old_text)
    if count is not None:
        occurrences = min(occurrences, max(int(count), 0))
    if len(text) + occurrences * (len(new_text) - len(old_text)) > limits.max_string:
        raise _too_long("replace()", limits)
    return do_replace(eval_ctx, value, old, new, count)


@pass_eval_context
def safe_join(eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | None = None) -> str:
    limits = _limits(eval_ctx)
    items = list(value)
    if attribute is not None:
        items = list(map(make_attrgetter(eval_ctx.environment, attribute), items))
    total = len(str(d)) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items)
    if total > limits.max_string:
        raise _too_long("join()", limits)
    return str(do_join(eval_ctx, items, d))


@pass_eval_context
def safe_wordwrap(
    eval_ctx: EvalContext,
    value: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    limits = _limits(eval_ctx)
    separator = len(wrapstring) if wrapstring is not None else 1
    if not isinstance(width, int) or width < 1:
        raise BudgetExceeded(lazy("wordwrap() takes a width of at least 1"), "size_limit")
    if len(str(value)) * (1 + separator // width + separator) > limits.max_string * 2:
        raise _too_long("wordwrap()", limits)
    return do_wordwrap(eval_ctx.environment, value, width, break_long_words, wrapstring, break_on_hyphens)


@pass_eval_context
def safe_format(eval_ctx: EvalContext, value: str, *args: Any, **kwargs: Any) -> str:
    """`"%s, %d"|format(a, b)` with the widths of its fields checked."""
    if args and kwargs:
        raise SandboxViolation(lazy("format() takes either positional or keyword arguments, not both"))
    check_printf(str(value), _limits(eval_ctx))
    return str(str(value) % (kwargs or args))


@pass_eval_context
def safe_tojson(eval_ctx: EvalContext, value: Any, indent: int | None = None) -> Markup:
    if indent is not None:
        _check_width(indent, _limits(eval_ctx), "tojson() indent")
    return do_tojson(eval_ctx, value, indent)


GUARDED_FILTERS: dict[str, Callable[..., Any]] = {
    "center": safe_center,
    "indent": safe_indent,
    "batch": safe_batch,
    "slice": safe_slice,
    "replace": safe_replace,
    "join": safe_join,
    "format": safe_format,
    "wordwrap": safe_wordwrap,
    "tojson": safe_tojson,
    LOOP_GUARD: loop_guard,
}
