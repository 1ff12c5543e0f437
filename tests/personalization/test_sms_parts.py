"""SMS parts: GSM-7 vs UCS-2, single and concatenated messages, the extension table counting double."""

from __future__ import annotations

import pytest

from smartcomm.personalization.sms_parts import SmsParts, count_parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SmsParts("GSM-7", 0, 0, 160, 160)),
        ("Hello", SmsParts("GSM-7", 5, 1, 160, 155)),
        ("a" * 160, SmsParts("GSM-7", 160, 1, 160, 0)),
        ("a" * 161, SmsParts("GSM-7", 161, 2, 153, 145)),
        ("a" * 306, SmsParts("GSM-7", 306, 2, 153, 0)),
        ("a" * 307, SmsParts("GSM-7", 307, 3, 153, 152)),
        ("€" * 80, SmsParts("GSM-7", 160, 1, 160, 0)),  # the extension table counts double
        ("{}" * 40 + "a", SmsParts("GSM-7", 161, 2, 153, 144)),  # 76 pairs fill 152 of 153
        ("Привет", SmsParts("UCS-2", 6, 1, 70, 64)),
        ("я" * 70, SmsParts("UCS-2", 70, 1, 70, 0)),
        ("я" * 71, SmsParts("UCS-2", 71, 2, 67, 63)),
        ("Hi 😀", SmsParts("UCS-2", 5, 1, 70, 65)),  # an emoji is two UTF-16 units
    ],
)
def test_parts_of_a_text(text: str, expected: SmsParts) -> None:
    assert count_parts(text) == expected


def test_an_escape_pair_never_splits_between_parts() -> None:
    # 152 plain septets, then "€" (2 septets) does not fit in the first part of 153: it starts the next.
    text = "a" * 152 + "€" + "b" * 10
    assert count_parts(text) == SmsParts("GSM-7", 164, 2, 153, 141)


def test_a_surrogate_pair_never_splits_between_parts() -> None:
    text = "я" * 66 + "😀" + "я" * 5
    assert count_parts(text) == SmsParts("UCS-2", 73, 2, 67, 60)
