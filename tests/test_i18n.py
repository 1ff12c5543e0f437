"""The Russian catalog covers every interface string, and placeholders survive translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from smartcomm.kit import i18n

SRC = Path(__file__).resolve().parents[1] / "src"
KEYWORDS = {
    "_": None,
    "gettext_": None,
    "lazy": None,
    "ngettext": (1, 2),
    "flash": (2,),
    "Forbidden": None,
    "Conflict": None,
    "FieldError": (2,),
    "for_field": (2,),
}
METHODS = [("**.py", "python"), ("smartcomm/web/templates/**.html", "jinja2")]
OPTIONS = {"smartcomm/web/templates/**.html": {"extensions": "jinja2.ext.i18n,jinja2.ext.do"}}


def interface_strings() -> set[str]:
    found = extract_from_dir(str(SRC), METHODS, OPTIONS, KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _x in found}


def russian_catalog() -> dict[str, tuple[str, ...]]:
    """msgid → its translations: one for a plain string, one per Russian plural form otherwise."""
    with (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translations: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if message.id:
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            forms = message.string
            translations[msgid] = (forms,) if isinstance(forms, str) else tuple(forms)
    return translations


def test_every_interface_string_has_a_russian_translation() -> None:
    translated = {msgid for msgid, forms in russian_catalog().items() if all(forms)}
    missing = sorted(interface_strings() - translated)
    assert missing == [], "run `make catalogs` and translate these in locale/ru/LC_MESSAGES/messages.po"


def test_placeholders_are_kept_in_translations() -> None:
    placeholder = re.compile(r"%\(\w+\)s")
    broken = [
        msgid
        for msgid, forms in russian_catalog().items()
        for text in forms
        if text and sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(text))
    ]
    assert broken == []


def test_lazy_strings_follow_the_current_language() -> None:
    label = i18n.lazy("Users")
    with i18n.language("ru"):
        assert str(label) == "Пользователи"
    with i18n.language("en"):
        assert str(label) == "Users"
