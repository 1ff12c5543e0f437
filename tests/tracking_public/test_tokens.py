"""The signed tokens of public links: short, URL-safe, tied to their purpose, and refused when touched."""

from __future__ import annotations

import base64
import re

from smartcomm.delivery.tokens import (
    ClickTokens,
    Purpose,
    click_url,
    is_public_page,
    list_unsubscribe_headers,
    message_links,
    sign,
    verify,
    verify_one,
)

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_a_token_names_its_numbers_and_is_short_and_url_safe() -> None:
    token = sign(Purpose.CLICK, 123_456_789, 4_321)
    assert URL_SAFE.fullmatch(token)
    assert len(token) <= 27
    assert verify(Purpose.CLICK, token, 2) == (123_456_789, 4_321)


def test_the_largest_ids_survive_a_round_trip() -> None:
    token = sign(Purpose.OPEN, 2**63 - 1)
    assert verify_one(Purpose.OPEN, token) == 2**63 - 1
    assert verify_one(Purpose.OPEN, sign(Purpose.OPEN, 0)) == 0


def test_a_message_s_click_tokens_are_the_ones_sign_makes() -> None:
    for message_id in (0, 1, 127, 128, 123_456_789, 2**63 - 1):
        tokens = ClickTokens(message_id)
        for link_id in (0, 1, 127, 128, 16_384, 2**63 - 1):
            assert tokens.url(link_id) == click_url(message_id, link_id)
            token = tokens.url(link_id).rpartition("/")[2]
            assert verify(Purpose.CLICK, token, 2) == (message_id, link_id)


def test_a_token_of_another_purpose_is_unknown() -> None:
    opened = sign(Purpose.OPEN, 42)
    assert verify_one(Purpose.UNSUBSCRIBE, opened) is None
    assert verify_one(Purpose.PREFERENCES, sign(Purpose.UNSUBSCRIBE, 42)) is None


def test_a_changed_byte_or_a_swapped_number_is_unknown() -> None:
    token = sign(Purpose.CLICK, 10, 20)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[0] ^= 1  # message 11 instead of 10, with the signature of message 10
    touched = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert verify(Purpose.CLICK, touched, 2) is None
    other_link = sign(Purpose.CLICK, 10, 21)
    assert verify(Purpose.CLICK, other_link[:-4] + token[-4:], 2) is None


def test_malformed_tokens_are_unknown_not_errors() -> None:
    for token in ("", "a", "!!!!", "A" * 200, "Zm9v", "é", sign(Purpose.OPEN, 5) + "="):
        assert verify_one(Purpose.OPEN, token) is None
    assert verify(Purpose.CLICK, sign(Purpose.OPEN, 5), 2) is None  # a one-number token read as two


def test_the_links_of_a_message_point_at_our_public_pages() -> None:
    links = message_links(9)
    assert set(links) == {"unsubscribe_url", "preferences_url", "view_in_browser_url"}
    assert all(is_public_page(url) for url in links.values())
    assert is_public_page(click_url(9, 1))
    assert not is_public_page("https://shop.example/u/abc")


def test_list_unsubscribe_offers_one_click_and_the_mailbox_when_there_is_one() -> None:
    headers = list_unsubscribe_headers(9)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"] == f"<{message_links(9)['unsubscribe_url']}>"
    with_mailbox = list_unsubscribe_headers(9, "unsubscribe@shop.example")["List-Unsubscribe"]
    token = sign(Purpose.UNSUBSCRIBE, 9)
    assert with_mailbox.endswith(f", <mailto:unsubscribe@shop.example?subject=unsubscribe-{token}>")


def test_only_the_one_spelling_of_a_token_is_accepted() -> None:
    """Unpadded base64 leaves spare bits in the last character: every other last character is refused,
    including those that decode to the same bytes."""
    tokens = [sign(Purpose.CLICK, message_id, 7) for message_id in (1, 200, 20_000, 3_000_000)]
    assert {len(token) % 4 for token in tokens} == {0, 2, 3}  # with and without spare bits
    for token in tokens:
        others = [token[:-1] + c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"]
        accepted = [other for other in others if verify(Purpose.CLICK, other, 2) is not None]
        assert accepted == [token]
