"""Code formats and random codes: `{string('A-Z', 3)}-{string('0-9', 4)}` → `QXM-0381`.

A format is fixed text and parts `{string('<ranges>', <length>)}`; ranges list characters and spans
(`A-Z`, `a-z0-9`, `ABCDEF`, `0-9A-F`). Randomness comes from `secrets`; characters are drawn from random
bytes by rejection (a byte maps to a character only below the largest multiple of the alphabet's size),
so every character of an alphabet is equally likely — and the mapping runs in C (`bytes.translate`),
which makes a million codes a matter of a second.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass

from smartcomm.kit.errors import FieldError, InvalidInput

MAX_CODE_LENGTH = 64
MAX_FORMAT_LENGTH = 500
MAX_ALPHABET = 256  # one random byte per character draw
_PART = re.compile(r"""\{\s*string\s*\(\s*(['"])(?P<ranges>.*?)\1\s*,\s*(?P<length>\d{1,3})\s*\)\s*\}""")


class FormatError(InvalidInput):
    """A format that cannot be read; the message names the 1-based position of the problem."""

    def __init__(self, position: int, message: str) -> None:
        text = f"position {position}: {message}"
        super().__init__(f"format: {text}", [FieldError("format", text, "invalid_format")])
        self.position = position


@dataclass(frozen=True, slots=True)
class Part:
    """Fixed text (`alphabet` empty) or `length` characters drawn from `alphabet`."""

    text: str = ""
    alphabet: str = ""
    length: int = 0

    @property
    def space(self) -> int:
        return len(self.alphabet) ** self.length if self.alphabet else 1


@dataclass(frozen=True, slots=True)
class CodeFormat:
    parts: tuple[Part, ...]

    @property
    def space(self) -> int:
        """How many different codes the format can make."""
        return math.prod(part.space for part in self.parts)

    @property
    def length(self) -> int:
        return sum(len(part.text) or part.length for part in self.parts)

    def sample(self, count: int) -> list[str]:
        """`count` random codes (duplicates possible: the caller keeps a set)."""
        columns = [_column(part, count) for part in self.parts]
        return ["".join(pieces) for pieces in zip(*columns, strict=True)]

    def unique_sample(self, count: int) -> set[str]:
        """`count` different random codes (the format's space is at least twice `count`)."""
        found: set[str] = set()
        for _ in range(100):  # each round tops up; with space >= 2 × count a few rounds are enough
            missing = count - len(found)
            if missing <= 0:
                break
            found.update(self.sample(missing))
        return found


def _column(part: Part, count: int) -> list[str] | tuple[str, ...]:
    """The part's text in each of `count` codes."""
    if not part.alphabet:
        return (part.text,) * count
    text, size = _random_text(part.alphabet, part.length * count), part.length
    return [text[start : start + size] for start in range(0, len(text), size)]


def parse_format(text: str) -> CodeFormat:
    """Read a format; a problem raises FormatError naming its position (1-based)."""
    if not text.strip():
        raise FormatError(1, "the format is empty")
    if len(text) > MAX_FORMAT_LENGTH:
        raise FormatError(MAX_FORMAT_LENGTH + 1, f"the format is longer than {MAX_FORMAT_LENGTH} characters")
    parts: list[Part] = []
    position = 0
    while position < len(text):
        if text[position] == "{":
            match = _PART.match(text, position)
            if match is None:
                raise FormatError(position + 1, _why_not_a_part(text, position))
            parts.append(_random_part(match, position))
            position = match.end()
            continue
        end = _next_brace(text, position)
        parts.append(_fixed_part(text[position:end], position))
        position = end
    result = CodeFormat(tuple(parts))
    if result.length > MAX_CODE_LENGTH:
        raise FormatError(1, f"its codes would be {result.length} characters long; at most {MAX_CODE_LENGTH}")
    return result


def _next_brace(text: str, start: int) -> int:
    found = text.find("{", start)
    return len(text) if found < 0 else found


def _fixed_part(text: str, offset: int) -> Part:
    for index, char in enumerate(text):
        if char == "}":
            raise FormatError(offset + index + 1, "a '}' without its '{'")
        if char.isspace() or not char.isprintable():
            raise FormatError(offset + index + 1, "codes cannot hold spaces or invisible characters")
    return Part(text=text)


def _why_not_a_part(text: str, position: int) -> str:
    close = text.find("}", position)
    if close < 0:
        return "a '{' without its '}'"
    return "expected {string('<characters>', <length>)}, e.g. {string('A-Z', 4)}"


def _random_part(match: re.Match[str], offset: int) -> Part:
    ranges_at = offset + match.start("ranges") - match.start() + 1
    alphabet = parse_ranges(match.group("ranges"), ranges_at)
    length = int(match.group("length"))
    if not 1 <= length <= MAX_CODE_LENGTH:
        where = offset + match.start("length") - match.start() + 1
        raise FormatError(where, f"the length must be from 1 to {MAX_CODE_LENGTH}")
    return Part(alphabet=alphabet, length=length)


def parse_ranges(ranges: str, position: int = 1) -> str:
    """`a-z0-9` → the characters in order, each once; `position` is where `ranges` starts in the format."""
    if not ranges:
        raise FormatError(position, "list the characters to draw from, e.g. 'A-Z0-9'")
    chars: dict[str, None] = {}
    index = 0
    while index < len(ranges):
        first = ranges[index]
        if index + 2 < len(ranges) and ranges[index + 1] == "-":
            last = ranges[index + 2]
            if ord(last) < ord(first):
                raise FormatError(position + index, f"the range {first}-{last} runs backwards")
            span = [chr(code) for code in range(ord(first), ord(last) + 1)]
            index += 3
        else:
            span = [first]
            index += 1
        for char in span:
            if char.isspace() or not char.isprintable():
                raise FormatError(position + index - 1, "codes cannot hold spaces or invisible characters")
            chars[char] = None
    if len(chars) > MAX_ALPHABET:
        raise FormatError(position, f"at most {MAX_ALPHABET} different characters in one part")
    return "".join(chars)


def check_space(code_format: CodeFormat, quantity: int) -> None:
    """Refuse a format that cannot make twice `quantity` different codes.

    Codes already stored in the same shape are not known cheaply; a space of at least twice the request
    keeps the draw from running into them more than now and then."""
    if code_format.space < 2 * quantity:
        raise InvalidInput.for_field(
            "format",
            f"this format makes only {code_format.space:,} different codes; {quantity:,} need at least "
            f"{2 * quantity:,} (twice as many, so that new codes rarely collide with earlier ones): "
            "add characters or make a part longer",
        )


def _random_text(alphabet: str, count: int) -> str:
    """`count` characters drawn uniformly from `alphabet` (at most 256 characters)."""
    size = len(alphabet)
    limit = 256 - 256 % size  # bytes at or above it would favour the first characters: dropped
    ascii_only = alphabet.isascii()
    # An ASCII alphabet maps bytes straight to its characters; another maps them to indices first.
    mapped = [ord(alphabet[b % size]) if ascii_only else b % size for b in range(limit)]
    table = bytes(mapped + [0] * (256 - limit))
    dropped = bytes(range(limit, 256))
    drawn = bytearray()
    while len(drawn) < count:
        want = count - len(drawn)
        raw = secrets.token_bytes(want * 256 // limit + 16)
        drawn += raw.translate(table, dropped)
    text = bytes(drawn[:count]).decode("latin-1")
    return text if ascii_only else text.translate(dict(enumerate(alphabet)))
