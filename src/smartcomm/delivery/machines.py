"""Who opened or clicked: a person, or a machine acting on their mailbox.

Machines are recorded with their hits (`is_machine`, and the reason in the event's data), never dropped
and never counted as people. Two kinds of evidence are used:

- **What the request says of itself**, judged here from the request alone: a privacy proxy that fetches
  every image on delivery, a link scanner or preview robot by its user agent or network, a HEAD request,
  a request without a user agent.
- **When it came**, judged by the tracking writer from the message's history (`early_click`,
  `click_burst`): a security gateway follows the links of a message within seconds of its delivery, before
  anyone could have read it, and follows all of them.

Every list below names its source. Lists are matched as lower-case substrings of the user agent, or as
networks of the client address.

Not machines: Gmail's and Yahoo's image proxies fetch the pixel when the person opens the message (and
cache it afterwards), so their opens are people's; they are recorded with `via` naming the proxy. (Treating
them as machines is the over-filtering Mautic shipped and withdrew, mautic/mautic#16069.)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

# --- the reasons a hit is a machine's ------------------------------------------------------------------

PRIVACY_PROXY = "privacy_proxy"  # Apple Mail Privacy Protection: every image fetched on delivery
SCANNER = "scanner"  # a security scanner, link-preview robot or HTTP library, by its user agent
SCANNER_NETWORK = "scanner_network"  # a mail-security provider's network
NO_USER_AGENT = "no_user_agent"
HEAD_REQUEST = "head_request"  # link checkers look with HEAD; a browser never does for a click
EARLY_CLICK = "early_click"  # clicked within seconds of sending with no open by a person before
CLICK_BURST = "click_burst"  # several links of one message clicked within seconds of its delivery

# --- timing rules (applied by delivery.tracking with the message's history) -----------------------------

# An e-mail link followed this soon after sending, before any open by a person, was followed by the
# receiving gateway (Microsoft Safe Links, Mimecast, Proofpoint… check links on delivery). A person who
# blocks images and clicks within 20 seconds of the send is the rare exception this rule gives up.
EARLY_CLICK_WINDOW = timedelta(seconds=20)
# Within this long after delivery, clicks on two or more different links of one message are a scanner
# following every link (peers.md: "clicks on every link within seconds of delivery").
BURST_WINDOW = timedelta(seconds=30)
BURST_LINKS = 2

# --- Apple Mail Privacy Protection -------------------------------------------------------------------
# Apple's proxies fetch remote content with the bare user agent "Mozilla/5.0" from Apple's own network
# 17.0.0.0/8 (ARIN NET-17-0-0-0-1; Apple, "Mail Privacy Protection", support.apple.com/en-us/102580, and
# the ESPs' write-ups of it, e.g. SendGrid's and Litmus's "Apple MPP" guides).
APPLE_NETWORKS = ("17.0.0.0/8",)
APPLE_PROXY_AGENT = "mozilla/5.0"

# --- image proxies that fetch on a person's open (recorded as people, with `via`) ---------------------
# Gmail: "… (via ggpht.com GoogleImageProxy)" from 66.249.80.0/20 (Google, "Gmail image proxy" in Gmail
# help; Google's published crawler/proxy ranges). Yahoo and AOL: "YahooMailProxy".
IMAGE_PROXIES = {"googleimageproxy": "google_image_proxy", "yahoomailproxy": "yahoo_mail_proxy"}

# --- link scanners, preview robots and HTTP libraries, by user agent ------------------------------------
# Mail-security gateways that announce themselves (vendor documentation and the user agents ESPs list as
# "security bots": Barracuda, Mimecast, Proofpoint URL Defense, Symantec/Broadcom MessageLabs, Trend Micro,
# Sophos, Forcepoint, Cisco, FireEye/Trellix, Zscaler); chat and social link previews (Facebook/iMessage,
# WhatsApp, Telegram, Slack, Skype, Discord, LinkedIn, Twitter, VK); generic crawlers; HTTP
# libraries and headless browsers no person clicks with.
SCANNER_AGENTS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "urldefense",
    "messagelabs",
    "symantec",
    "trend micro",
    "trendmicro",
    "sophos",
    "forcepoint",
    "ironport",
    "cisco",
    "fireeye",
    "trellix",
    "zscaler",
    "safelinks",
    "microsoft office protocol discovery",
    "ms-office",
    "facebookexternalhit",
    "facebot",
    "whatsapp",
    "telegrambot",
    "slackbot",
    "slack-imgproxy",
    "skypeuripreview",
    "discordbot",
    "linkedinbot",
    "twitterbot",
    "vkshare",
    "iframely",
    "embedly",
    "bot/",
    "bot;",
    "crawler",
    "spider",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "apache-httpclient",
    "libwww-perl",
    "node-fetch",
    "axios/",
    "headlesschrome",
    "phantomjs",
    "scrapy",
)
# Networks of mail-security services that follow links on delivery: Microsoft Exchange Online Protection
# (Safe Links detonation), from Microsoft's "Microsoft 365 URLs and IP address ranges" (Exchange Online,
# ID 2 and 9).
SCANNER_NETWORKS = (
    "40.92.0.0/15",
    "40.107.0.0/16",
    "52.100.0.0/14",
    "104.47.0.0/17",
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the request says of who made it: a machine's reason (None for a person), and the image proxy
    a person's open came through."""

    machine: str | None = None
    via: str | None = None


PERSON = Verdict()


def judge_request(kind: str, method: str, user_agent: str | None, ip: str | None) -> Verdict:
    """The verdict on an open ("opened") or a click ("clicked") from the request alone."""
    if method == "HEAD":
        return Verdict(HEAD_REQUEST)
    agent = (user_agent or "").strip().lower()
    if not agent:
        return Verdict(NO_USER_AGENT)
    if kind == "opened" and (agent == APPLE_PROXY_AGENT or _in_networks(ip, "apple")):
        return Verdict(PRIVACY_PROXY)
    for marker, name in IMAGE_PROXIES.items():
        if marker in agent:
            return Verdict(via=name)
    if _scanner_agent(agent):
        return Verdict(SCANNER)
    if _in_networks(ip, "scanners"):
        return Verdict(SCANNER_NETWORK)
    return PERSON


@lru_cache(maxsize=4096)
def _scanner_agent(agent: str) -> bool:
    return any(marker in agent for marker in SCANNER_AGENTS)


_NETWORKS = {
    "apple": tuple(ipaddress.ip_network(n) for n in APPLE_NETWORKS),
    "scanners": tuple(ipaddress.ip_network(n) for n in SCANNER_NETWORKS),
}


@lru_cache(maxsize=4096)
def _in_networks(ip: str | None, which: str) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _NETWORKS[which])
