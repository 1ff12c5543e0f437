"""The sending domain's DNS check: SPF, DKIM and DMARC records looked up with dnspython, each judged
pass / fail / missing with a reason and the exact record to publish.

Mailbox providers (Gmail, Yahoo, Mail.ru) reject or file as spam bulk mail from a domain without these
records, so the check tells what to publish rather than only what is wrong. A lookup that times out or
finds no name is "missing", never an error page: the domain may simply not be set up yet.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
from sqlalchemy.orm import Session

from smartcomm.channels.email.settings import SmtpSettings
from smartcomm.channels.email.signing import DkimKeyError, load_private_key, public_key_record
from smartcomm.channels.registry import settings_of
from smartcomm.channels.repository import ChannelProviderRepository
from smartcomm.channels.secrets import SecretUnreadable
from smartcomm.config import config
from smartcomm.kit.i18n import lazy

State = Literal["pass", "fail", "missing"]
DMARC_POLICIES = ("none", "quarantine", "reject")

# Reasons: English message ids translated where they are shown (with their parameters).
NOT_FOUND = lazy("No record was found at %(name)s.")
NO_ANSWER = lazy("The DNS server did not answer in time; try again later.")
SPF_SEVERAL = lazy("There are %(count)s SPF records; receivers treat that as an error. Merge them into one.")
SPF_ANYONE = lazy("The record ends in +all: it lets anyone send as the domain.")
SPF_MISSES = lazy("The record does not name the sending server %(sender)s.")
SPF_OK = lazy("One SPF record authorises the senders listed.")
DKIM_NO_KEY = lazy("No DKIM key is configured: add a domain, selector and private key to the SMTP provider.")
DKIM_REVOKED = lazy("The published key is empty (revoked).")
DKIM_MISMATCH = lazy("The published key does not match the configured private key.")
DKIM_OK = lazy("The published key matches the configured private key.")
DMARC_SEVERAL = lazy("There are %(count)s DMARC records; receivers ignore them all. Keep one.")
DMARC_BAD_POLICY = lazy("The record has no valid policy (p=none, quarantine or reject).")
DMARC_OK = lazy("A DMARC policy is published: p=%(policy)s.")


@dataclass(frozen=True)
class Check:
    """One record's verdict."""

    kind: str  # spf | dkim | dmarc
    name: str  # the DNS name looked up
    state: State
    reason: str
    params: dict[str, str] = field(default_factory=dict)
    found: tuple[str, ...] = ()  # the records found there
    publish: str | None = None  # the TXT value to publish (None when there is nothing to suggest)
    details: tuple[str, ...] = ()  # SPF mechanisms, the DMARC policy


@dataclass(frozen=True)
class Domain:
    """What is checked: the sending domain, its DKIM selector and private key, the sending server."""

    name: str
    selector: str | None = None
    private_key: str | None = None
    sender: str | None = None  # the SMTP relay's host name or IP address, when known


# A check asked with no resolver judges as if nothing were published (for the record to suggest).
Judge = Callable[[Domain, "dns.resolver.Resolver | None"], Check]


class LookupFailed(Exception):
    """The DNS server did not answer (a timeout, no server reachable)."""


# --- looking up ---------------------------------------------------------------------------------------


def resolver(nameserver: str | None = None, timeout: float | None = None) -> dns.resolver.Resolver:
    """A resolver asking `nameserver` ("host" or "host:port"), the configured one, or the system's."""
    server = nameserver if nameserver is not None else config.dns_nameserver
    try:
        found = dns.resolver.Resolver(configure=not server)
    except dns.resolver.NoResolverConfiguration:
        # No resolv.conf (a bare container): ask the local host, which answers or times out cleanly.
        found, server = dns.resolver.Resolver(configure=False), "127.0.0.1"
    if server:
        host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
        found.nameservers = [host]
        found.port = int(port or 53)
    found.lifetime = timeout or config.dns_timeout_seconds
    found.use_edns(0, 0, 4096)  # a 2048-bit DKIM key does not fit a plain 512-byte answer
    return found


def txt_records(name: str, asking: dns.resolver.Resolver) -> list[str]:
    """The TXT values at a name (each record's strings joined); empty when the name has none."""
    try:
        answer = asking.resolve(name, dns.rdatatype.TXT, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers, dns.name.LabelTooLong, dns.name.EmptyLabel):
        return []
    except dns.exception.Timeout as error:
        raise LookupFailed(name) from error
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def check_domain(domain: Domain, asking: dns.resolver.Resolver | None = None) -> list[Check]:
    """SPF, DKIM and DMARC of the domain, in that order."""
    asking = asking or resolver()
    return [
        _looked_up(check_spf, domain, asking),
        _looked_up(check_dkim, domain, asking),
        _looked_up(check_dmarc, domain, asking),
    ]


def _looked_up(judge: Judge, domain: Domain, asking: dns.resolver.Resolver) -> Check:
    try:
        return judge(domain, asking)
    except LookupFailed as failed:
        blank = judge(domain, None)  # what to publish does not depend on the answer
        return Check(blank.kind, str(failed), "missing", NO_ANSWER, publish=blank.publish)


def _records(name: str, asking: dns.resolver.Resolver | None, prefix: str) -> list[str]:
    """The TXT values at `name` starting with `prefix` (case-insensitive)."""
    found = txt_records(name, asking) if asking is not None else []
    return [value for value in found if value.strip().lower().startswith(prefix)]


# --- SPF ----------------------------------------------------------------------------------------------


def spf_suggestion(sender: str | None) -> str:
    """An SPF record authorising the sending server (its address, or its host's), else the domain's MX."""
    if not sender:
        return "v=spf1 mx ~all"
    try:
        address = ipaddress.ip_address(sender)
    except ValueError:
        return f"v=spf1 a:{sender} mx ~all"
    return f"v=spf1 {'ip4' if address.version == 4 else 'ip6'}:{address} mx ~all"


def check_spf(domain: Domain, asking: dns.resolver.Resolver | None) -> Check:
    name, publish = domain.name, spf_suggestion(domain.sender)
    found = _records(name, asking, "v=spf1")
    if not found:
        return Check("spf", name, "missing", NOT_FOUND, {"name": name}, publish=publish)
    if len(found) > 1:
        count = {"count": str(len(found))}
        return Check("spf", name, "fail", SPF_SEVERAL, count, tuple(found), publish)
    mechanisms = tuple(found[0].split()[1:])
    state, reason, params = _spf_verdict(mechanisms, domain.sender)
    suggestion = None if state == "pass" else publish
    return Check("spf", name, state, reason, params, tuple(found), suggestion, mechanisms)


def _spf_verdict(mechanisms: tuple[str, ...], sender: str | None) -> tuple[State, str, dict[str, str]]:
    lowered = [mechanism.lower() for mechanism in mechanisms]
    if "+all" in lowered:
        return "fail", SPF_ANYONE, {}
    # Includes are not followed (they need more lookups and the provider's own ranges): an include may
    # well name the sender, so a record with one is taken on trust.
    named = any(sender.lower() in mechanism for mechanism in lowered) if sender else True
    if not named and not any(m.startswith(("include:", "redirect=")) for m in lowered):
        return "fail", SPF_MISSES, {"sender": sender or ""}
    return "pass", SPF_OK, {}


# --- DKIM ---------------------------------------------------------------------------------------------


def dkim_tags(record: str) -> dict[str, str]:
    """The `tag=value` pairs of a DKIM record, whitespace inside values removed (long keys are split)."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        tag, sign, value = part.partition("=")
        if sign:
            tags[tag.strip().lower()] = re.sub(r"\s+", "", value)
    return tags


def check_dkim(domain: Domain, asking: dns.resolver.Resolver | None) -> Check:
    selector = domain.selector or "mail"
    name = f"{selector}._domainkey.{domain.name}"
    publish = _dkim_record(domain.private_key)
    if publish is None:
        return Check("dkim", name, "missing", DKIM_NO_KEY)
    found = _records(name, asking, "") if asking is not None else []
    keys = [record for record in found if "p" in dkim_tags(record)]
    if not keys:
        return Check("dkim", name, "missing", NOT_FOUND, {"name": name}, publish=publish)
    published = dkim_tags(keys[0])["p"]
    if not published:
        return Check("dkim", name, "fail", DKIM_REVOKED, found=tuple(keys), publish=publish)
    if published != dkim_tags(publish)["p"]:
        return Check("dkim", name, "fail", DKIM_MISMATCH, found=tuple(keys), publish=publish)
    return Check("dkim", name, "pass", DKIM_OK, found=tuple(keys))


def _dkim_record(private_key: str | None) -> str | None:
    if not private_key:
        return None
    try:
        return public_key_record(load_private_key(private_key))
    except DkimKeyError:
        return None


# --- DMARC --------------------------------------------------------------------------------------------


def dmarc_suggestion(domain: str) -> str:
    """A DMARC record to start with: monitor only, reports to the domain's postmaster."""
    return f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}; adkim=r; aspf=r"


def check_dmarc(domain: Domain, asking: dns.resolver.Resolver | None) -> Check:
    name, publish = f"_dmarc.{domain.name}", dmarc_suggestion(domain.name)
    found = _records(name, asking, "v=dmarc1")
    if not found:
        return Check("dmarc", name, "missing", NOT_FOUND, {"name": name}, publish=publish)
    if len(found) > 1:
        return Check("dmarc", name, "fail", DMARC_SEVERAL, {"count": str(len(found))}, tuple(found), publish)
    policy = dkim_tags(found[0]).get("p", "").lower()
    if policy not in DMARC_POLICIES:
        return Check("dmarc", name, "fail", DMARC_BAD_POLICY, found=tuple(found), publish=publish)
    return Check("dmarc", name, "pass", DMARC_OK, {"policy": policy}, tuple(found), details=(f"p={policy}",))


# --- what the installation sends as -------------------------------------------------------------------


def configured_domain(session: Session) -> Domain | None:
    """The sending domain of the e-mail channel: the active SMTP provider's (else the first one set up),
    with its DKIM selector and key and its relay; None while no SMTP provider exists (the sandbox)."""
    providers = [p for p in ChannelProviderRepository(session).ordered() if p.channel == "email"]
    for provider in sorted(providers, key=lambda p: not p.is_active):
        try:
            settings = settings_of(provider)
        except (SecretUnreadable, ValueError):
            continue
        if isinstance(settings, SmtpSettings):
            name = settings.dkim_domain or settings.from_address.rpartition("@")[2]
            return Domain(name.lower(), settings.dkim_selector, settings.dkim_private_key, settings.host)
    return None
