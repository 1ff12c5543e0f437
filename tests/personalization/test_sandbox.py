"""Hostile templates: none may escape the sandbox or run away; each ends with a clear reason.

Every payload renders for a real-looking customer. The safe outcome is a `RenderError` whose reason
names the class of problem (sandbox, size, loop, recursion, time, output) and whose message tells a
designer what happened — never output holding an internal object, and never a hang.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.limits import RenderLimits
from smartcomm.personalization.views import ClientView, ReceiptView
from tests.personalization.helpers import render

CLIENT = ClientView({"id": 7, "first_name": "Анна", "total_amount": Decimal("1500.00")}, {"size": "M"}, None)
VARIABLES = {"client": CLIENT, "receipts": [ReceiptView(number="R-1")], "event": {"order": "A-1"}}

SANDBOX = "sandbox"
SIZE = "size_limit"
LOOP = "loop_limit"
RECURSION = "recursion_limit"
OUTPUT = "output_limit"
ERROR = "render_error"

PAYLOADS = [
    # attribute walks to dunder names
    ("dunder class", "{{ ''.__class__ }}", SANDBOX, "'__class__' of a str is private"),
    ("subclasses walk", "{{ ''.__class__.__mro__[1].__subclasses__() }}", SANDBOX, "private"),
    ("view globals", "{{ client.__init__.__globals__ }}", SANDBOX, "private"),
    ("bound method self", "{{ client.promocode.__self__ }}", SANDBOX, "private"),
    ("view slots", "{{ client.__slots__ }}", SANDBOX, "private"),
    ("private of a list", "{{ receipts.__class__.__base__ }}", SANDBOX, "private"),
    ("item walk", "{{ client['__class__'] }}", SANDBOX, "private"),
    ("attr filter", "{{ client|attr('__class__') }}", SANDBOX, "private"),
    ("map attribute", "{{ [client]|map(attribute='__class__')|list }}", SANDBOX, "private"),
    ("sort attribute", "{{ [client]|sort(attribute='__dict__') }}", SANDBOX, "private"),
    ("markup internals", "{{ ('<b>'|safe).__html__() }}", SANDBOX, "private"),
    ("template reference", "{{ self._TemplateReference__context }}", SANDBOX, "private"),
    ("undefined chain", "{{ nothing.__class__.__init__ }}", SANDBOX, "private"),
    # cycler / joiner / namespace tricks
    ("cycler globals", "{{ cycler.__init__.__globals__.os.popen('id').read() }}", SANDBOX, "private"),
    ("joiner globals", "{{ joiner.__init__.__globals__ }}", SANDBOX, "private"),
    ("namespace globals", "{{ namespace.__init__.__globals__ }}", SANDBOX, "private"),
    ("cycler object", "{{ cycler(1, 2).__class__.__init__ }}", SANDBOX, "private"),
    ("namespace attrs", "{{ namespace(a=1)._Namespace__attrs }}", SANDBOX, "private"),
    ("lipsum gone", "{{ lipsum.__globals__['os'] }}", SANDBOX, "private"),
    # format-string attacks
    ("str.format", "{{ '{0.__class__}'.format(client) }}", SANDBOX, "'format' of a str is not available"),
    ("str.format_map", "{{ '{x.__class__}'.format_map({'x': client}) }}", SANDBOX, "'format_map'"),
    ("format via getitem", "{{ ''['format']('{0.__class__}', client) }}", SANDBOX, "'format'"),
    ("percent width", "{{ '%999999999d' % 1 }}", SIZE, "wider than 1,000 characters"),
    ("percent star", "{{ '%*d' % (999999999, 1) }}", SANDBOX, "width from an argument"),
    ("percent named", "{{ '%(a)999999s' % {'a': 1} }}", SIZE, "wider than"),
    ("format filter", "{{ '%999999999s'|format('x') }}", SIZE, "wider than"),
    ("ljust", "{{ 'x'.ljust(10**9) }}", SANDBOX, "'ljust' of a str is not available"),
    ("encode", "{{ client.first_name.encode('utf-8') }}", SANDBOX, "'encode'"),
    # mutation of what the template was given
    ("dict pop", "{{ event.pop('order') }}", SANDBOX, "'pop' of a dict is not available"),
    ("list append", "{{ receipts.append(1) }}", SANDBOX, "'append' of a list"),
    ("custom update", "{{ client.custom.update({'size': 'XL'}) }}", SANDBOX, "'update' of a dict"),
    # huge values
    ("huge range", "{{ range(10**9)|length }}", LOOP, "range() of 1,000,000,000 numbers"),
    ("string multiplication", "{{ 'x' * 10**9 }}", SIZE, "repeating a value"),
    ("list multiplication", "{{ [1] * 10**9 }}", SIZE, "repeating a value"),
    ("join method", "{{ ''.join(['x'] * 2000) }}", SANDBOX, "'join' of a str is not available"),
    ("list of lists", "{{ [['x'] * 1000] * 1000000 }}", SIZE, "repeating a value"),
    ("huge power", "{{ 2 ** (10 ** 9) }}", SIZE, "binary digits"),
    ("number too long to print", "{{ 10 ** 4400 }}", SIZE, "binary digits"),
    ("center", "{{ 'x'|center(10**9) }}", SIZE, "center()"),
    ("indent width", "{{ 'x'|indent(10**9) }}", SIZE, "indent()"),
    ("indent many lines", "{{ ('x\n' * 100000)|indent(1000) }}", SIZE, "indent()"),
    ("batch fill", "{{ [1, 2]|batch(10**9, 'x')|list }}", SIZE, "batch()"),
    ("slice count", "{{ [1]|slice(10**9)|list }}", SIZE, "slice()"),
    ("replace empty", "{{ ('a' * 1000)|replace('', 'b' * 1000) }}", SIZE, "replace()"),
    ("join separator", "{{ range(10000)|join('x' * 1000) }}", SIZE, "join()"),
    ("wordwrap separator", "{{ ('a' * 100000)|wordwrap(1, wrapstring='b' * 500) }}", SIZE, "wordwrap()"),
    ("tojson indent", "{{ {'a': 1}|tojson(indent=10**9) }}", SIZE, "tojson()"),
    # growth in loops and recursion
    (
        "namespace doubling",
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        SIZE,
        "a text of more than 1,000,000 characters",
    ),
    (
        "number squaring",
        "{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
        SIZE,
        "binary digits",
    ),
    ("endless macro", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", RECURSION, "nested more than 64"),
    (
        "doubling argument",
        "{% macro g(s) %}{{ g(s ~ s) }}{% endmacro %}{{ g('x') }}",
        SIZE,
        "a text of more than 1,000,000 characters",
    ),
    (
        "recursive loop",
        "{% for x in [1] recursive %}{{ loop([1, 2]) }}{% endfor %}",
        RECURSION,
        "nested more than 64",
    ),
    (
        "nested loops",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        LOOP,
        "the loops ran more than 100,000 times",
    ),
    ("huge loop", "{% for i in range(10**9) %}{% endfor %}", LOOP, "range() of 1,000,000,000"),
    (
        "huge output",
        "{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}",
        OUTPUT,
        "longer than 1,000,000",
    ),
    (
        "huge buffer",
        "{% set big %}{% for i in range(9000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}{{ big|length }}",
        OUTPUT,
        "macros and blocks produced more than",
    ),
    # what a template cannot reach at all
    ("include", "{% include 'settings.html' %}", ERROR, "no loader"),
    ("extends", "{% extends 'layout.html' %}", ERROR, "no loader"),
    ("import", "{% import 'macros.html' as m %}{{ m.x }}", ERROR, "no loader"),
    ("call a type", "{{ client.custom.__class__() }}", SANDBOX, "private"),
]


@pytest.mark.parametrize(
    ("template", "reason", "message"),
    [pytest.param(t, r, m, id=name) for name, t, r, m in PAYLOADS],
)
def test_a_hostile_template_ends_with_a_clear_reason(template: str, reason: str, message: str) -> None:
    with pytest.raises(RenderError) as raised:
        render(template, **VARIABLES)
    assert raised.value.reason == reason
    assert message in raised.value.message


def test_the_payload_suite_is_large() -> None:
    assert len(PAYLOADS) >= 30


def test_a_render_past_its_time_budget_stops_with_the_time_reason() -> None:
    no_time = RenderLimits(max_seconds=0.0)
    with pytest.raises(RenderError) as raised:
        render("{% for i in range(1000) %}{{ i }}{% endfor %}", limits=no_time)
    assert raised.value.reason == "time_limit"
    assert "took longer than 0 s" in raised.value.message


def test_a_macro_fanning_out_is_stopped_by_the_call_budget() -> None:
    template = "{% macro d(n) %}{% if n %}{{ d(n - 1) }}{{ d(n - 1) }}{% endif %}{% endmacro %}{{ d(40) }}"
    with pytest.raises(RenderError) as raised:
        render(template)
    assert raised.value.reason in {"call_limit", "time_limit"}


def test_unknown_names_render_nothing_rather_than_internals() -> None:
    assert render("[{{ config }}{{ request }}{{ os }}{{ self }}]").startswith("[")
    assert "<" not in render("{{ config }}{{ request }}{{ os }}")


def test_errors_name_the_line_of_the_template() -> None:
    with pytest.raises(RenderError) as raised:
        render("Hello\n{{ client.first_name }}\n{{ ''.__class__ }}\n", client=CLIENT)
    assert raised.value.line == 3
    assert str(raised.value) == "body, line 3: '__class__' of a str is private: templates cannot use it"


def test_what_templates_are_for_still_works_in_the_sandbox() -> None:
    template = (
        "{% set ns = namespace(total=0) %}"
        "{% for r in receipts %}{% set ns.total = ns.total + 1 %}{{ r.number|lower }}{% endfor %}"
        " {{ ns.total }} {{ client.first_name|upper }} {{ client.custom.size }}"
        " {{ 'Ab'.lower() }} {{ 'a,b'.split(',')|join('+') }} {{ '%05.1f'|format(3.14159) }}"
        " {{ [3, 1, 2]|sort|join }} {{ dict(a=1).items()|list }} {{ range(3)|list }}"
        " {% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{% endfor %}"
    )
    output = render(template, **VARIABLES)
    assert output == "r-1 1 АННА M ab a+b 003.1 123 [('a', 1)] [0, 1, 2] 1a2b3a"
