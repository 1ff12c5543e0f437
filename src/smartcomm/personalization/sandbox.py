"""The sandboxed Jinja2 environment of message templates.

Templates are written by staff, but they run for every customer of a mailing, so they must neither
reach outside what they are given nor run away. Three layers:

* **What a template may touch** is a whitelist per type: the fields each view declares, a few
  string, list and dict methods, date parts. Everything else — dunder walks, `format`/`format_map`,
  `mro`, functions' globals — raises a `SandboxViolation` naming the attribute.
* **What a template may make** is bounded where it is made (personalization.guards): `range()` is
  capped, `*`, `**`, `+` and `%` check the size of what they would build before building it, filters
  that pad or repeat check their width, arguments of every call are size-checked (so a recursive macro
  cannot double a string forty times), and `namespace` attributes cannot grow past the string limit.
* **How long it may run** is a budget (personalization.limits): every loop is wrapped in a guard
  that counts iterations and checks the clock, every call counts calls and nesting depth, every
  buffer of a macro or block counts the characters put into it, and the renderer counts the output.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, LoopContext, Macro, TemplateReference, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace
from markupsafe import Markup
from markupsafe import _escape_inner as escape_text  # type: ignore[attr-defined]  # what `escape` calls

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import SandboxViolation
from smartcomm.personalization.formatting import FILTERS as FORMAT_FILTERS
from smartcomm.personalization.guards import (
    GUARDED_FILTERS,
    LOOP_GUARD,
    BoundedBuffer,
    GuardedNamespace,
    check_size,
    guarded_binop,
    loop_guard,
    safe_range,
)
from smartcomm.personalization.limits import DEFAULT_LIMITS, RenderLimits
from smartcomm.personalization.macros import random_string
from smartcomm.personalization.runtime import current_budget

# --- what a template may touch ---------------------------------------------------------------------

STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isdigit",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rindex",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
    }
)
DICT_METHODS = frozenset({"items", "keys", "values", "get"})
SEQUENCE_METHODS = frozenset({"index", "count"})
DATE_PARTS = frozenset({"year", "month", "day", "weekday", "isoweekday", "isoformat", "strftime"})
TIME_PARTS = frozenset({"hour", "minute", "second", "isoformat", "strftime"})
LOOP_PARTS = frozenset(
    {
        "index",
        "index0",
        "revindex",
        "revindex0",
        "first",
        "last",
        "length",
        "depth",
        "depth0",
        "previtem",
        "nextitem",
        "cycle",
        "changed",
    }
)
ANY_PUBLIC = frozenset({"*"})  # marker: every attribute not starting with an underscore
NOTHING: frozenset[str] = frozenset()
# Types whose public attributes are all data or harmless: a namespace's attributes are the template's
# own values, a template reference's are its blocks, an undefined value's are more undefined values.
OPEN_TYPES: tuple[type, ...] = (Namespace, TemplateReference, Undefined, Macro)


def _policy(cls: type) -> frozenset[str]:
    declared = getattr(cls, "template_attributes", None)
    if isinstance(declared, frozenset):
        return declared
    rules: tuple[tuple[type | tuple[type, ...], frozenset[str]], ...] = (
        (OPEN_TYPES, ANY_PUBLIC),
        (Markup, STR_METHODS | {"striptags", "unescape"}),
        (str, STR_METHODS),
        (dict, DICT_METHODS),
        ((list, tuple, range), SEQUENCE_METHODS),
        (datetime, DATE_PARTS | TIME_PARTS | {"date", "time"}),
        (date, DATE_PARTS),
        (time, TIME_PARTS),
        (LoopContext, LOOP_PARTS),
        (Cycler, frozenset({"next", "current", "reset"})),
    )
    for types, allowed in rules:
        if issubclass(cls, types):
            fields = getattr(cls, "_fields", None)  # named tuples (groupby's groups): their fields too
            return allowed | frozenset(fields) if isinstance(fields, tuple) else allowed
    return NOTHING


_policies: dict[type, frozenset[str]] = {}


def allowed_attributes(cls: type) -> frozenset[str]:
    found = _policies.get(cls)
    if found is None:
        found = _policies[cls] = _policy(cls)
    return found


def _kind(obj: Any) -> str:
    return type(obj).__name__


def output_html(value: Any) -> str:
    """An expression's value in an HTML part: escaped, and None as nothing. Replaces Jinja's
    `escape(finalize(value))`, which makes a `Markup` object per value only to join them all."""
    if value.__class__ is str:
        return escape_text(value)
    if value is None:
        return ""
    html = getattr(value, "__html__", None)
    return str(html()) if html is not None else escape_text(str(value))


def output_text(value: Any) -> str:
    """An expression's value in a text part (subject, text part, SMS…): None as nothing."""
    if value.__class__ is str:
        return value
    return "" if value is None else str(value)


class GuardedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with the buffers of macros and blocks made `BoundedBuffer`s and every printed
    value going through `output_html` or `output_text`."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile:  # an {% autoescape %} block decides while rendering
            self.write(
                "(environment.output_html if context.eval_ctx.autoescape else environment.output_text)("
            )
        else:
            self.write(
                "environment.output_html(" if frame.eval_ctx.autoescape else "environment.output_text("
            )
        if finalize.src is not None:
            self.write(finalize.src)


# Not offered at all: lorem ipsum of any length, and filters that reach the environment's loader.
REMOVED_GLOBALS = ("lipsum",)


def _html_parts(name: str | None) -> bool:
    """Autoescape only the parts that are HTML (compiled under a name ending in .html)."""
    return bool(name) and str(name).endswith(".html")


class MessageEnvironment(ImmutableSandboxedEnvironment):
    """The one environment of message templates (a module singleton: no per-render setup)."""

    code_generator_class = GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: RenderLimits = DEFAULT_LIMITS) -> None:
        super().__init__(
            autoescape=_html_parts,
            undefined=ChainableUndefined,
            extensions=["jinja2.ext.loopcontrols"],
            keep_trailing_newline=True,
            cache_size=0,
            auto_reload=False,
        )
        self.limits = limits
        GuardedNamespace.limits = limits
        for name in REMOVED_GLOBALS:
            self.globals.pop(name, None)
        self.globals.update(
            range=safe_range(limits),
            namespace=lambda *args, **kwargs: GuardedNamespace(*args, **kwargs),
            cycler=lambda *items: Cycler(*items),
            joiner=lambda sep=", ": Joiner(sep),
            dict=lambda **items: dict(items),
            string=random_string,
        )
        self.filters.update(GUARDED_FILTERS)
        self.filters.update(FORMAT_FILTERS)

    # --- attributes and items ------------------------------------------------------------------------

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        allowed = allowed_attributes(type(obj))
        if allowed is ANY_PUBLIC:
            return not attr.startswith("_")
        return attr in allowed

    def is_safe_callable(self, obj: Any) -> bool:
        return not isinstance(obj, type) and super().is_safe_callable(obj)

    def wrap_str_format(self, value: Any) -> None:
        # `str.format` and `format_map` are simply not offered (is_safe_attribute refuses them).
        return None

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The hot path of every template: a field the object's type lists.
        allowed = _policies.get(obj.__class__)
        if allowed is not None and attribute in allowed:
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return self._getattr_slowly(obj, attribute)

    def _getattr_slowly(self, obj: Any, attribute: str) -> Any:
        allowed = allowed_attributes(type(obj))
        if attribute in allowed or (allowed is ANY_PUBLIC and not attribute.startswith("_")):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        elif attribute.startswith("_"):
            raise SandboxViolation(
                lazy("'%(attribute)s' of a %(kind)s is private: templates cannot use it"),
                attribute=attribute,
                kind=_kind(obj),
            )
        try:
            return obj[attribute]
        except (TypeError, LookupError):
            pass
        if attribute not in allowed and hasattr(obj, attribute):
            self.unsafe_undefined(obj, attribute)
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        try:
            return obj[argument]
        except (TypeError, LookupError):
            if isinstance(argument, str):
                return self.getattr(obj, argument)
        return self.undefined(obj=obj, name=argument)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SandboxViolation(
            lazy("'%(attribute)s' of a %(kind)s is not available in templates"),
            attribute=attribute,
            kind=_kind(obj),
        )

    # --- calls and operators -------------------------------------------------------------------------

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Call an object from a template: counted, size-checked and depth-limited."""
        budget = current_budget()
        budget.call()
        if not __self.is_safe_callable(__obj):
            raise SandboxViolation(
                lazy("%(kind)s objects cannot be called from templates"), kind=_kind(__obj)
            )
        for value in (*args, *kwargs.values()):
            check_size(value, __self.limits)
        if not isinstance(__obj, (Macro, LoopContext)):
            return __context.call(__obj, *args, **kwargs)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level: guard it too
            args = (loop_guard(__context, args[0]), *args[1:])
        budget.enter()
        try:
            return __context.call(__obj, *args, **kwargs)
        finally:
            budget.leave()

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        guarded_binop(operator, left, right, self.limits)
        result = self.binop_table[operator](left, right)
        check_size(result, self.limits)
        return result

    def new_buffer(self) -> BoundedBuffer:
        return BoundedBuffer()

    # A missing profile field is None: it prints as nothing, not as the word "None".
    output_html = staticmethod(output_html)
    output_text = staticmethod(output_text)

    # --- parsing -------------------------------------------------------------------------------------

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, LOOP_GUARD, [], [], None, None, lineno=loop.iter.lineno)
        tree.set_environment(self)
        return tree


environment = MessageEnvironment()
