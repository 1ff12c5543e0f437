"""Preparing e-mail HTML when a template is saved, and finishing it when a message is rendered.

On save: MJML is compiled to responsive HTML by MRML (`mjml-python`, no Node at run time), CSS is
inlined by `css-inline`, and a text part is derived from the HTML when the designer wrote none. All
three steps keep the template's Jinja tags intact: HTML parsers would move text found between table
rows out of the table, and MRML refuses `<` inside text, so every tag is swapped for a placeholder
(an HTML comment between elements, a plain token inside attributes) and put back afterwards.

On render: UTM parameters are appended to every web link of the rendered HTML and text.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import css_inline
import mjml

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import Problem, worded

JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_MJ_STYLE = re.compile(r"<mj-style(?![^>]*\binline=)[^>]*>(.*?)</mj-style>", re.DOTALL | re.IGNORECASE)


# --- keeping template tags through HTML tools ------------------------------------------------------


@dataclass
class Protected:
    text: str
    tags: dict[str, str]  # placeholder -> the template tag it stands for

    def restore(self, processed: str) -> str:
        for placeholder, tag in self.tags.items():
            processed = processed.replace(placeholder, tag)
        return processed

    def lost(self, processed: str) -> list[str]:
        """Tags whose placeholder did not come through (the tool dropped the text around it)."""
        return [tag for placeholder, tag in self.tags.items() if placeholder not in processed]


def protect(source: str, *, comments: bool) -> Protected:
    """Swap template tags for placeholders. With `comments`, a tag outside any HTML tag becomes an HTML
    comment (which an HTML parser leaves where it is); inside a tag it becomes a plain token."""
    nonce = secrets.token_hex(4)
    tags: dict[str, str] = {}
    pieces: list[str] = []
    position, inside_tag = 0, False
    for number, match in enumerate(JINJA_TAG.finditer(source)):
        between = source[position : match.start()]
        inside_tag = _inside_tag_after(between, inside_tag)
        token = f"scj{nonce}n{number}z"
        placeholder = f"<!--{token}-->" if comments and not inside_tag else token
        tags[placeholder] = match.group(0)
        pieces += [between, placeholder]
        position = match.end()
    pieces.append(source[position:])
    return Protected("".join(pieces), tags)


def _inside_tag_after(text: str, inside: bool) -> bool:
    opened, closed = text.rfind("<"), text.rfind(">")
    if opened == closed == -1:
        return inside
    return opened > closed


# --- MJML and CSS ----------------------------------------------------------------------------------


def compile_mjml(source: str) -> tuple[str, list[Problem]]:
    """MJML to responsive HTML; the problems say what MRML refused or which template tags it dropped."""
    protected = protect(source, comments=False)
    try:
        compiled = mjml.mjml2html(protected.text, disable_comments=False, fonts={})
    except ValueError as error:
        message = worded(lazy("MJML could not be compiled: %(error)s"), {"error": error})
        return "", [Problem("mjml", _mjml_line(source, str(error)), message)]
    lost = protected.lost(compiled)
    if lost:
        message = worded(
            lazy(
                "the template tag %(tag)s is outside any MJML element and would be dropped: "
                "put it inside <mj-raw>…</mj-raw>"
            ),
            {"tag": lost[0]},
        )
        return "", [Problem("mjml", _line_of(source, lost[0]), message)]
    return protected.restore(compiled), []


def _mjml_line(source: str, message: str) -> int | None:
    found = re.search(r"position (\d+)", message)
    return source.count("\n", 0, int(found.group(1))) + 1 if found else None


def _line_of(source: str, fragment: str) -> int | None:
    index = source.find(fragment)
    return source.count("\n", 0, index) + 1 if index >= 0 else None


def mjml_styles(source: str) -> str:
    """The CSS a designer wrote in the MJML's `<mj-style>` blocks (MJML's own CSS is not theirs)."""
    return "\n".join(match.group(1) for match in _MJ_STYLE.finditer(source))


def inline_css(source: str, only: str | None = None) -> str:
    """Move the CSS of `<style>` blocks into `style` attributes (media queries stay in `<style>`).

    With `only`, just that CSS is inlined and the `<style>` blocks stay as they are: MJML's output
    carries resets and responsive rules meant for the head, and inlining its `table, td { … }` reset
    into every cell would double the size of a message for nothing."""
    protected = protect(source, comments=True)
    inliner = _INLINER
    if only is not None:
        inliner = css_inline.CSSInliner(
            inline_style_tags=False, keep_style_tags=True, extra_css=only, load_remote_stylesheets=False
        )
    inlined = inliner.inline(protected.text)
    for placeholder, tag in protected.tags.items():
        escaped = html.escape(placeholder, quote=False)
        inlined = inlined.replace(placeholder, tag).replace(escaped, tag)
    return inlined


# --- the text part ---------------------------------------------------------------------------------

BLOCKS = frozenset(
    {"p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "section", "article"}
)
SKIPPED = frozenset({"head", "style", "script", "title"})


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in BLOCKS:
            self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag == "td":
            self.out.append(" ")
        elif tag == "img":
            self.out.append(dict(attrs).get("alt") or "")
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith(("#", "mailto:")):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (line.strip() for line in "".join(self.out).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def html_to_text(source: str) -> str:
    """A plain-text part from HTML: paragraphs and line breaks kept, links as "text (address)", template
    tags kept as they are (they are rendered like the HTML part, without escaping)."""
    maker = _TextMaker()
    maker.feed(re.sub(r"<!--.*?-->", "", source, flags=re.DOTALL))
    maker.close()
    return maker.text()


# --- UTM parameters --------------------------------------------------------------------------------

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_TEXT_URL = re.compile(r"https?://[^\s<>\"')]+")


def with_utm(url: str, utm: Mapping[str, str]) -> str:
    """The web address with the UTM parameters it does not already carry."""
    if not utm or not url.lower().startswith(("http://", "https://")):
        return url
    parts = urlsplit(url)
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    added = [(key, value) for key, value in utm.items() if value and key not in present]
    if not added:
        return url
    query = f"{parts.query}&{urlencode(added)}" if parts.query else urlencode(added)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _replacer(utm: Mapping[str, str], skip: frozenset[str]) -> Callable[[str], str]:
    def replace(url: str) -> str:
        return url if url in skip else with_utm(url, utm)

    return replace


def utm_in_html(source: str, utm: Mapping[str, str], skip: frozenset[str] = frozenset()) -> str:
    """Append UTM parameters to every web link of rendered HTML (not to the addresses in `skip`:
    unsubscribe, preferences and view-in-browser pages)."""
    if not utm:
        return source
    replace = _replacer(utm, skip)

    def one(match: re.Match[str]) -> str:
        url = replace(html.unescape(match.group(3)))
        return f"{match.group(1)}{match.group(2)}{html.escape(url, quote=True)}{match.group(2)}"

    return _HREF.sub(one, source)


def utm_in_text(source: str, utm: Mapping[str, str], skip: frozenset[str] = frozenset()) -> str:
    if not utm:
        return source
    replace = _replacer(utm, skip)
    return _TEXT_URL.sub(lambda match: replace(match.group(0)), source)
