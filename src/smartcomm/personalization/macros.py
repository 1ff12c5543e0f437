"""Built-in macros: `string('0-9', 4)` — random characters from ranges, for codes and identifiers."""

from __future__ import annotations

import secrets
from functools import lru_cache

from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import RenderError

MAX_LENGTH = 64
MAX_ALPHABET = 4096


@lru_cache(maxsize=256)
def alphabet(spec: str) -> str:
    """The characters a spec names: ranges such as `0-9`, `A-Z`, `a-z` and single characters,
    in any combination (`A-Z0-9`, `ABCDEF0-9`, `a-z_-`)."""
    chosen: dict[str, None] = {}
    position = 0
    while position < len(spec):
        first = spec[position]
        if position + 2 < len(spec) and spec[position + 1] == "-":
            last = spec[position + 2]
            if ord(last) < ord(first) or ord(last) - ord(first) > MAX_ALPHABET:
                raise RenderError(
                    lazy("string(): the range %(first)s-%(last)s is not valid"),
                    "bad_argument",
                    first=first,
                    last=last,
                )
            chosen.update(dict.fromkeys(chr(code) for code in range(ord(first), ord(last) + 1)))
            position += 3
        else:
            chosen[first] = None
            position += 1
    if not chosen or len(chosen) > MAX_ALPHABET:
        raise RenderError(
            lazy("string(): name the characters to choose from, e.g. '0-9' or 'A-Z0-9'"), "bad_argument"
        )
    return "".join(chosen)


def random_string(spec: str, length: int = 8) -> str:
    """`{{ string('0-9', 4) }}` → "4071": `length` characters drawn from `spec` by a cryptographic
    random generator."""
    if not isinstance(spec, str) or isinstance(length, bool) or not isinstance(length, int):
        raise RenderError(
            lazy("string() takes the characters and a length: string('0-9', 4)"), "bad_argument"
        )
    if not 1 <= length <= MAX_LENGTH:
        raise RenderError(
            lazy("string(): the length must be between 1 and %(limit)s"), "bad_argument", limit=MAX_LENGTH
        )
    characters = alphabet(spec)
    return "".join(secrets.choice(characters) for _ in range(length))
