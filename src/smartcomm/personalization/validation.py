"""Checking a template when it is saved: every problem with its part, line and reason.

1. Syntax errors, unknown filters and tests (Jinja reports them with their line when compiling).
2. What can be told from the template alone: unknown variables, unknown fields of `client`, custom
   fields that Settings → Fields does not define, private attributes, and `include`/`extends`/`import`
   (a message template stands alone).
3. A trial render for the test customer, which catches what only running shows: a loop or a value
   that goes past the limits, a sandbox refusal, a wrong type. A macro of an area that is not
   available yet (promo codes, polls) is not a problem of the template and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import TemplateAssertionError
from jinja2.meta import find_undeclared_variables

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.context import CONTEXT_VARIABLES, RenderContext
from smartcomm.personalization.engine import compile_draft, render_part
from smartcomm.personalization.errors import HookUnavailable, Problem, RenderError, worded
from smartcomm.personalization.runtime import RenderState
from smartcomm.personalization.sandbox import environment
from smartcomm.personalization.views import ClientView

STANDALONE = (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)
MARKUP_PARTS = frozenset({"html", "mjml"})


def known_names() -> frozenset[str]:
    return frozenset(CONTEXT_VARIABLES) | frozenset(environment.globals)


def static_problems(part: str, source: str, custom_fields: Iterable[str] = ()) -> list[Problem]:
    """Problems visible without rendering: syntax, unknown filters, variables and fields."""
    try:
        tree = environment.parse(source)
        environment.compile(tree, name=part)
    except (TemplateSyntaxError, TemplateAssertionError) as error:
        return [Problem(part, error.lineno, error.message or str(error))]
    problems = _standalone(part, tree) + _private(part, tree) + _unknown_names(part, tree)
    return problems + _unknown_client_fields(part, tree, frozenset(custom_fields))


def _standalone(part: str, tree: nodes.Template) -> list[Problem]:
    return [
        Problem(
            part,
            node.lineno,
            str(lazy("a message template cannot include, extend or import other templates")),
        )
        for node in tree.find_all(STANDALONE)
    ]


def _private(part: str, tree: nodes.Template) -> list[Problem]:
    return [
        Problem(
            part,
            node.lineno,
            worded(lazy("'%(name)s' is private: templates cannot use it"), {"name": node.attr}),
        )
        for node in tree.find_all(nodes.Getattr)
        if node.attr.startswith("_")
    ]


def _unknown_names(part: str, tree: nodes.Template) -> list[Problem]:
    unknown = find_undeclared_variables(tree) - known_names()
    first_use: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.name in unknown:
            first_use.setdefault(node.name, node.lineno)
    return [
        Problem(part, line, worded(lazy("unknown variable '%(name)s'"), {"name": name}), "unknown_variable")
        for name, line in sorted(first_use.items(), key=lambda item: item[1])
    ]


def _unknown_client_fields(part: str, tree: nodes.Template, custom: frozenset[str]) -> list[Problem]:
    problems = []
    client_fields = ClientView.template_attributes
    properties = custom | {name for name in client_fields if name not in {"custom", "properties"}}
    for node in tree.find_all(nodes.Getattr):
        owner = node.node
        if _is_client(owner) and node.attr not in client_fields:
            message = worded(lazy("client has no field '%(name)s'"), {"name": node.attr})
            problems.append(Problem(part, node.lineno, message, "unknown_field"))
        elif isinstance(owner, nodes.Getattr) and _is_client(owner.node):
            allowed = custom if owner.attr == "custom" else properties if owner.attr == "properties" else None
            if allowed is not None and node.attr not in allowed and not node.attr.startswith("_"):
                message = worded(
                    lazy("there is no custom field '%(name)s' (see Settings → Fields)"), {"name": node.attr}
                )
                problems.append(Problem(part, node.lineno, message, "unknown_field"))
    return problems


def _is_client(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Name) and node.name == "client"


def trial_problems(parts: Mapping[str, Any], context: RenderContext) -> list[Problem]:
    """Render every part once for the test customer, from the source as written (so that lines are the
    designer's lines, not those of the compiled HTML). A missing area's macro is not a problem."""
    for part, text in _texts(parts):
        state = RenderState(context.settings, preview=True)
        try:
            render_part(compile_draft(part, text, html=part in MARKUP_PARTS), context.variables, state)
        except HookUnavailable:
            continue
        except RenderError as error:
            return [Problem.of(error, part)]
    return []


def problems_in(
    parts: Mapping[str, Any], context: RenderContext | None, custom_fields: Iterable[str] = ()
) -> list[Problem]:
    """Every problem of the parts as written; the trial render runs only when nothing else is wrong."""
    fields = list(custom_fields)
    found = [problem for part, text in _texts(parts) for problem in static_problems(part, text, fields)]
    if found or context is None:
        return found
    return trial_problems(parts, context)


def _texts(parts: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(name, text) for name, text in parts.items() if isinstance(text, str) and text]
