"""No open redirect: a target taken from a request is followed only when it is a path of this product,
in every shape browsers normalise (kit/redirects.py), and sign-in uses that one judge."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy.orm import Session

from smartcomm.kit.redirects import safe_local_target
from tests.conftest import UIClient, extract_csrf
from tests.factories import make_user

LOCAL = [
    "/",
    "/customers",
    "/customers?q=Ivanov&page=2",
    "/customers/42?tab=receipts#top",
    "/segments/new",
    "/customers?q=http://example.com",  # a URL inside the query is only text
    "/customers?q=%D0%98%D0%B2%D0%B0%D0%BD",  # Cyrillic, percent-encoded
    "/customers?q=Иван",
    "/a/b/../c",
]

ELSEWHERE = [
    "https://evil.example/",
    "http://evil.example",
    "HTTPS://evil.example/",
    "//evil.example/",
    "//evil.example",
    "///evil.example/",
    "////evil.example",
    "/\\evil.example/",
    "\\\\evil.example/",
    "\\/evil.example/",
    "/\\/evil.example",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r/evil.example/",
    "/\t\\evil.example",
    "\t//evil.example",
    " //evil.example",
    "//evil.example ",
    " /customers",
    "/customers ",
    "\x00//evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/\u0085/evil.example",
    "/\u2028/evil.example",
    "/customers\\..\\..\\evil",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "evil.example",
    "customers",
    "./customers",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%2Fevil.example",
    "%5C%5Cevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "/.//evil.example",
    "/x//evil.example",
    "https:evil.example",
    "http:/evil.example",
    "/" + "a" * 3000,
    "",
    None,
]


@pytest.mark.parametrize("target", LOCAL)
def test_a_path_of_the_product_is_followed(target: str) -> None:
    assert safe_local_target(target) == target


@pytest.mark.parametrize("target", ELSEWHERE)
def test_anything_a_browser_may_take_for_another_place_is_refused(target: str | None) -> None:
    assert safe_local_target(target) is None


def sign_in_form(client: UIClient, session: Session, next_url: str) -> dict[str, str]:
    user, password = make_user(session, role="administrator")
    csrf = extract_csrf(client.get("/login").text)
    return {"email": user.email, "password": password, "csrf_token": csrf, "next": next_url}


@pytest.mark.parametrize(
    "target", ["/\\evil.example/", "//evil.example", "/\t/evil.example", "https://evil.example/"]
)
def test_sign_in_with_a_refused_next_lands_on_the_start_page(
    client: UIClient, session: Session, target: str
) -> None:
    response = client.post("/login", data=sign_in_form(client, session, target))
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_sign_in_follows_a_local_next(client: UIClient, session: Session) -> None:
    response = client.post("/login", data=sign_in_form(client, session, "/settings/users?q=anna"))
    assert response.headers["location"] == "/settings/users?q=anna"


@pytest.mark.parametrize("target", ["/\\evil.example/", "//evil.example", "javascript:alert(1)"])
def test_the_login_page_does_not_carry_a_refused_next(client: UIClient, target: str) -> None:
    page = client.get(f"/login?next={quote(target)}").text
    assert 'name="next" value=""' in page
    assert "evil.example" not in page and "javascript" not in page


def test_the_login_page_carries_a_local_next(client: UIClient) -> None:
    page = client.get("/login?next=%2Fsegments%2Fnew").text
    assert 'name="next" value="/segments/new"' in page


def test_a_page_asked_for_before_sign_in_comes_back_quoted_and_is_followed_after(
    client: UIClient, session: Session
) -> None:
    asked = client.get("/customers?q=Ivanov&sort=name")
    location = asked.headers["location"]
    assert urlsplit(location).path == "/login"
    (next_url,) = parse_qs(urlsplit(location).query)["next"]
    assert next_url == "/customers?q=Ivanov&sort=name"

    signed_in = client.post("/login", data=sign_in_form(client, session, next_url))
    assert signed_in.headers["location"] == "/customers?q=Ivanov&sort=name"


def test_a_page_whose_address_is_no_safe_target_asks_for_sign_in_without_next(client: UIClient) -> None:
    response = client.get("/customers?q=%5C%5Cevil.example")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
