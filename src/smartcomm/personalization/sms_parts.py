"""How many SMS parts a text takes: GSM-7 (160 characters, 153 per part when split) or UCS-2
(70, 67 per part) — the same computation as the counter of the template page (static/templates.js).

A text is GSM-7 when every character is in the GSM 03.38 alphabet; the characters of its extension
table (`^ { } \\ [ ~ ] | €` and form feed) take two septets each, and an escape pair is never split
between two parts. Otherwise the text is UCS-2, counted in UTF-16 code units (an emoji takes two),
and a surrogate pair is never split either.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True, slots=True)
class SmsParts:
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    per_part: int  # capacity of one part at this length: 160/70 for a single part, 153/67 when split
    remaining: int  # units still free in the last part


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _unit_sizes(text: str, gsm: bool) -> list[int]:
    if gsm:
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _parts_when_split(sizes: list[int], per_part: int) -> tuple[int, int]:
    """Fill parts of `per_part` units without splitting a character; (parts, units in the last)."""
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts, used


def count_parts(text: str) -> SmsParts:
    """The encoding, length and number of parts of an SMS text."""
    gsm = is_gsm7(text)
    encoding = "GSM-7" if gsm else "UCS-2"
    single, multi = LIMITS[encoding]
    sizes = _unit_sizes(text, gsm)
    units = sum(sizes)
    if units == 0:
        return SmsParts(encoding, 0, 0, single, single)
    if units <= single:
        return SmsParts(encoding, units, 1, single, single - units)
    parts, last = _parts_when_split(sizes, multi)
    return SmsParts(encoding, units, parts, multi, multi - last)
