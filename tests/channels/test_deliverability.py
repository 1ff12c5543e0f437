"""The sending domain's check against a real DNS server on loopback: SPF, DKIM and DMARC each passing,
failing and missing, a key that does not match, and a server that never answers."""

from __future__ import annotations

import time

import pytest

from smartcomm.channels.email.deliverability import (
    DKIM_MISMATCH,
    DKIM_NO_KEY,
    DKIM_OK,
    DKIM_REVOKED,
    DMARC_BAD_POLICY,
    DMARC_OK,
    DMARC_SEVERAL,
    NO_ANSWER,
    NOT_FOUND,
    SPF_ANYONE,
    SPF_MISSES,
    SPF_OK,
    SPF_SEVERAL,
    Check,
    Domain,
    check_domain,
    resolver,
)
from smartcomm.channels.email.signing import load_private_key, public_key_record
from tests.channels.dns_server import dns_server
from tests.channels.tls import rsa_key_pem

KEY = rsa_key_pem()
OTHER_KEY = rsa_key_pem()
RECORD = public_key_record(load_private_key(KEY))
DOMAIN = Domain("shop.example", "mail", KEY, "203.0.113.7")
GOOD = {
    "shop.example": ["v=spf1 ip4:203.0.113.7 mx ~all", "google-site-verification=abc"],
    "mail._domainkey.shop.example": [RECORD],
    "_dmarc.shop.example": ["v=DMARC1; p=quarantine; rua=mailto:d@shop.example"],
}


def checked(records: dict[str, list[str]], domain: Domain = DOMAIN) -> dict[str, Check]:
    with dns_server(records) as server:
        found = check_domain(domain, resolver(server.address, timeout=2))
    return {check.kind: check for check in found}


def test_a_domain_with_all_three_records_passes() -> None:
    found = checked(GOOD)
    assert [(c.state, c.reason) for c in found.values()] == [
        ("pass", SPF_OK),
        ("pass", DKIM_OK),
        ("pass", DMARC_OK),
    ]
    assert found["spf"].found == ("v=spf1 ip4:203.0.113.7 mx ~all",)
    assert found["spf"].details == ("ip4:203.0.113.7", "mx", "~all")
    assert found["dkim"].name == "mail._domainkey.shop.example"
    assert found["dkim"].found == (RECORD,)  # a 2048-bit key arrives split in strings and is joined
    assert found["dmarc"].params == {"policy": "quarantine"}
    assert all(check.publish is None for check in found.values() if check.kind != "dmarc")


def test_a_domain_without_records_is_missing_all_three_with_the_records_to_publish() -> None:
    found = checked({})
    assert {kind: (c.state, c.reason) for kind, c in found.items()} == {
        "spf": ("missing", NOT_FOUND),
        "dkim": ("missing", NOT_FOUND),
        "dmarc": ("missing", NOT_FOUND),
    }
    assert found["spf"].publish == "v=spf1 ip4:203.0.113.7 mx ~all"
    assert found["dkim"].publish == RECORD
    assert found["dkim"].publish.startswith("v=DKIM1; k=rsa; p=MIIB")
    assert (
        found["dmarc"].publish == "v=DMARC1; p=none; rua=mailto:dmarc-reports@shop.example; adkim=r; aspf=r"
    )
    assert found["dmarc"].params == {"name": "_dmarc.shop.example"}


def test_spf_fails_with_two_records_with_plus_all_and_without_the_sender() -> None:
    two = checked({**GOOD, "shop.example": ["v=spf1 mx ~all", "v=spf1 a ~all"]})["spf"]
    assert (two.state, two.reason, two.params) == ("fail", SPF_SEVERAL, {"count": "2"})
    anyone = checked({**GOOD, "shop.example": ["v=spf1 ip4:203.0.113.7 +all"]})["spf"]
    assert (anyone.state, anyone.reason) == ("fail", SPF_ANYONE)
    elsewhere = checked({**GOOD, "shop.example": ["v=spf1 ip4:198.51.100.1 -all"]})["spf"]
    assert (elsewhere.state, elsewhere.reason) == ("fail", SPF_MISSES)
    assert elsewhere.params == {"sender": "203.0.113.7"}
    assert elsewhere.publish == "v=spf1 ip4:203.0.113.7 mx ~all"


def test_spf_with_an_include_is_taken_on_trust_and_a_relay_host_is_suggested_by_name() -> None:
    included = checked({**GOOD, "shop.example": ["v=spf1 include:_spf.relay.example ~all"]})["spf"]
    assert included.state == "pass"
    relay = Domain("shop.example", "mail", KEY, "smtp.relay.example")
    assert checked({}, relay)["spf"].publish == "v=spf1 a:smtp.relay.example mx ~all"


def test_dkim_fails_when_the_published_key_is_another_or_revoked() -> None:
    other = public_key_record(load_private_key(OTHER_KEY))
    mismatch = checked({**GOOD, "mail._domainkey.shop.example": [other]})["dkim"]
    assert (mismatch.state, mismatch.reason, mismatch.publish) == ("fail", DKIM_MISMATCH, RECORD)
    revoked = checked({**GOOD, "mail._domainkey.shop.example": ["v=DKIM1; k=rsa; p="]})["dkim"]
    assert (revoked.state, revoked.reason) == ("fail", DKIM_REVOKED)


def test_dkim_without_a_configured_key_says_so_and_suggests_nothing() -> None:
    found = checked(GOOD, Domain("shop.example", None, None, None))
    assert (found["dkim"].state, found["dkim"].reason, found["dkim"].publish) == (
        "missing",
        DKIM_NO_KEY,
        None,
    )
    assert found["spf"].state == "pass"  # no sender known: any single SPF record passes


def test_dmarc_fails_with_two_records_or_no_valid_policy() -> None:
    two = checked({**GOOD, "_dmarc.shop.example": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]})["dmarc"]
    assert (two.state, two.reason) == ("fail", DMARC_SEVERAL)
    bad = checked({**GOOD, "_dmarc.shop.example": ["v=DMARC1; p=maybe"]})["dmarc"]
    assert (bad.state, bad.reason) == ("fail", DMARC_BAD_POLICY)


@pytest.mark.parametrize("silent", ["shop.example", "mail._domainkey.shop.example", "_dmarc.shop.example"])
def test_a_server_that_does_not_answer_gives_missing_not_an_error(silent: str) -> None:
    with dns_server(GOOD, silent={silent}) as server:
        started = time.monotonic()
        found = {c.kind: c for c in check_domain(DOMAIN, resolver(server.address, timeout=0.3))}
    assert time.monotonic() - started < 3
    stuck = next(check for check in found.values() if check.name == silent)
    assert (stuck.state, stuck.reason) == ("missing", NO_ANSWER)
    assert stuck.publish is not None
    assert [c.state for c in found.values() if c is not stuck] == ["pass", "pass"]
