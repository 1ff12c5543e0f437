"""Who opened or clicked, judged from the request alone."""

from __future__ import annotations

from smartcomm.delivery import machines
from smartcomm.delivery.machines import judge_request

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)


def test_a_person_in_a_browser_is_a_person() -> None:
    assert judge_request("opened", "GET", CHROME, "93.184.216.34") == machines.PERSON
    assert judge_request("clicked", "GET", IPHONE, "2a00:1450::1") == machines.PERSON


def test_apple_mail_privacy_protection_opens_are_machines() -> None:
    assert judge_request("opened", "GET", "Mozilla/5.0", "104.28.0.1").machine == machines.PRIVACY_PROXY
    assert judge_request("opened", "GET", IPHONE, "17.58.0.10").machine == machines.PRIVACY_PROXY


def test_gmail_image_proxy_opens_are_people_with_the_proxy_named() -> None:
    agent = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    verdict = judge_request("opened", "GET", agent, "66.249.84.1")
    assert verdict.machine is None
    assert verdict.via == "google_image_proxy"


def test_scanners_previews_and_libraries_are_machines() -> None:
    for agent in (
        "Barracuda Sentinel (EE)",
        "facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        "WhatsApp/2.23.20.0",
        "python-requests/2.31",
        "curl/8.4.0",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 HeadlessChrome/120.0",
    ):
        assert judge_request("clicked", "GET", agent, "93.184.216.34").machine == machines.SCANNER, agent


def test_a_mail_security_network_a_head_request_and_no_user_agent_are_machines() -> None:
    assert judge_request("clicked", "GET", CHROME, "40.107.22.5").machine == machines.SCANNER_NETWORK
    assert judge_request("clicked", "HEAD", CHROME, "93.184.216.34").machine == machines.HEAD_REQUEST
    assert judge_request("opened", "GET", None, "93.184.216.34").machine == machines.NO_USER_AGENT
    assert judge_request("clicked", "GET", "  ", None).machine == machines.NO_USER_AGENT


def test_an_address_that_is_not_an_address_counts_for_nothing() -> None:
    assert judge_request("clicked", "GET", CHROME, "not-an-ip") == machines.PERSON
