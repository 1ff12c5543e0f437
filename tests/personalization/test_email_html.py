"""Preparing e-mail HTML: MJML, CSS inlining and text parts keep the template tags; UTM on links."""

from __future__ import annotations

from smartcomm.personalization.email_html import (
    compile_mjml,
    html_to_text,
    inline_css,
    utm_in_html,
    utm_in_text,
)

TAGGED_HTML = """<html><head><style>p { color: #c00 } @media (max-width: 480px) { p { color: blue } }</style>
</head><body><p>Hi {{ client.first_name }}{% if client.receipt_count > 3 and 1 < 2 %}, VIP{% endif %}</p>
<table><tbody>{% for r in receipts %}<tr><td><a href="{{ r.link }}?a=1&b=2">{{ r.number }}</a></td></tr>
{% endfor %}</tbody></table></body></html>"""


def test_inlining_css_keeps_template_tags_in_place() -> None:
    inlined = inline_css(TAGGED_HTML)
    assert '<p style="color: #c00;">Hi {{ client.first_name }}' in inlined
    assert "{% if client.receipt_count > 3 and 1 < 2 %}, VIP{% endif %}" in inlined
    # The loop stays around the rows (an HTML parser would move stray text out of the table).
    assert "<tbody>{% for r in receipts %}<tr>" in inlined
    assert "{% endfor %}</tbody>" in inlined
    assert 'href="{{ r.link }}?a=1&amp;b=2"' in inlined
    assert "@media (max-width: 480px)" in inlined


def test_mjml_compiles_to_responsive_html_with_its_tags() -> None:
    source = (
        "<mjml><mj-body><mj-section><mj-column>"
        "<mj-text>Hello {{ client.first_name }}{% if a < 3 %}!{% endif %}</mj-text>"
        '<mj-button href="{{ containers.cart.products[0].link }}">Cart</mj-button>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    html, problems = compile_mjml(source)
    assert problems == []
    assert "Hello {{ client.first_name }}{% if a < 3 %}!{% endif %}" in html
    assert 'href="{{ containers.cart.products[0].link }}"' in html
    assert "@media only screen and (min-width:480px)" in html


def test_mjml_errors_are_reported() -> None:
    html, problems = compile_mjml("<mjml><mj-body><mj-section>")
    assert html == ""
    assert problems[0].part == "mjml"
    assert "MJML could not be compiled" in problems[0].message


def test_the_text_part_keeps_paragraphs_links_and_tags() -> None:
    text = html_to_text(inline_css(TAGGED_HTML))
    assert text.startswith("Hi {{ client.first_name }}{% if client.receipt_count > 3 and 1 < 2 %}")
    assert "{{ r.number }} ({{ r.link }}?a=1&b=2)" in text
    assert "color" not in text


def test_utm_parameters_go_on_web_links_only_and_keep_existing_ones() -> None:
    utm = {"utm_source": "smartcomm", "utm_campaign": "spring"}
    html = (
        '<a href="https://shop.example/p?id=1&amp;x=2">p</a> <a href="https://shop.example/?utm_source=own">o</a>'
        ' <a href="mailto:shop@example.com">m</a> <a href="https://sc.example/u/abc">unsubscribe</a>'
    )
    result = utm_in_html(html, utm, frozenset({"https://sc.example/u/abc"}))
    assert (
        'href="https://shop.example/p?id=1&amp;x=2&amp;utm_source=smartcomm&amp;utm_campaign=spring"'
        in result
    )
    assert 'href="https://shop.example/?utm_source=own&amp;utm_campaign=spring"' in result
    assert 'href="mailto:shop@example.com"' in result
    assert 'href="https://sc.example/u/abc"' in result
    assert utm_in_text("Shop: https://shop.example/p now", utm) == (
        "Shop: https://shop.example/p?utm_source=smartcomm&utm_campaign=spring now"
    )
