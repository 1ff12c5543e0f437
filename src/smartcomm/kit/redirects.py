"""The one judge of redirect targets taken from a request: only a path of this product passes.

Browsers are lenient about what they treat as another host. They strip tabs, CR and LF anywhere in a URL
and spaces and control characters at its ends, they read a backslash as a slash (`/\\evil.example/` is
`//evil.example/`), and `//host` means "same scheme, another host". A target is therefore accepted only
when it is an absolute path on this site in every form a browser or a later decoding step could give it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_TARGET_LENGTH = 2048
# Percent-decoding more often than this is not done by any browser or server in the chain.
DECODING_ROUNDS = 3


def safe_local_target(value: str | None) -> str | None:
    """`value` when it is a local path (with its query and fragment) of this product, else None."""
    if not value or len(value) > MAX_TARGET_LENGTH:
        return None
    for form in _decoded_forms(value):
        if not _is_local_path(form):
            return None
    return value


def _decoded_forms(value: str) -> list[str]:
    """The value and what it becomes after each percent-decoding, until decoding changes nothing."""
    forms = [value]
    for _ in range(DECODING_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def _is_local_path(text: str) -> bool:
    if any(_is_control(char) for char in text) or text != text.strip():
        return False
    if "\\" in text or not text.startswith("/") or text.startswith("//"):
        return False
    parts = urlsplit(text)
    # An empty scheme and host; "//" inside the path is refused too, so no normalisation of dot segments
    # (`/.//host`) can make a scheme-relative URL of it.
    return not parts.scheme and not parts.netloc and "//" not in parts.path


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029\ufeff"
