"""What the demo's history of communication is made of: the target audiences, the mailings of the last
three months with what their recipients did, and the two mailings still ahead (one scheduled, one draft).

Days are counted back from today in the project time zone, hours are the project's wall clock. Rates are
shares of the messages handed over (sent) or delivered, drawn as exact quotas so that even a small base
shows them (`engagement`, `sending`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AudiencePlan:
    """A target audience of customers with a usable contact of the channel, subscribed to the category
    on it, and chosen by their purchases as of the day it was made."""

    key: str
    name: str
    description: str
    contact: str  # email | sms | push: whose contact (and subscription) the members have
    category: str  # the mailing category the members are subscribed to on that channel
    size: int  # at most this many, drawn from those who qualify
    recent_days: int | None = None  # bought within these days
    lapsed_days: int | None = None  # bought before, but not within these days
    min_receipts: int = 1  # at least this many receipts within `recent_days` (with it)


@dataclass(frozen=True)
class Fates:
    """What happens to the messages handed over: shares of them delivered, bounced (a dead address) or
    undelivered (the provider gave up); the rest stay sent without a delivery receipt."""

    delivered: float
    bounced: float = 0.0
    undelivered: float = 0.0


EMAIL = Fates(delivered=0.97, bounced=0.015)
SMS = Fates(delivered=0.95, undelivered=0.03)
VIBER = Fates(delivered=0.82)  # the rest have no Viber: their SMS goes after the cascade timeout
PUSH = Fates(delivered=0.90, bounced=0.04)


@dataclass(frozen=True)
class Engagement:
    """People's opens and clicks as shares of the messages delivered; machine opens (privacy proxies);
    unsubscribes and spam complaints; and the share of those who opened that then bought something."""

    opened: float = 0.0
    clicked: float = 0.0
    machine_opened: float = 0.0
    unsubscribed: float = 0.0
    complained: float = 0.0
    buyers: float = 0.0  # of those engaged: who opened (a Viber message: read), an SMS: delivered
    clicked_buyers: float = 0.6  # of those who clicked (they buy online)


@dataclass(frozen=True)
class VariantPlan:
    template: str
    subject: str
    opened: float  # the variant's own open share (the winner by opens is the better one)


@dataclass(frozen=True)
class MailingPlan:
    name: str
    channel: str  # email | sms | sms_viber | push
    template: str  # a key of `templates.TEMPLATES`
    audience: str  # a key of AUDIENCES
    category: str
    days_ago: int
    clock: str  # hh:mm of the project's wall clock
    control_percent: float = 10.0
    control_strata: tuple[str, ...] = ()
    fates: Fates = field(default_factory=lambda: EMAIL)
    engagement: Engagement = field(default_factory=Engagement)
    variants: tuple[VariantPlan, ...] = ()
    ab_wait_hours: int = 4
    sms_template: str | None = None  # the SMS leg of a Viber → SMS cascade
    utm_campaign: str | None = None


AUDIENCES = (
    AudiencePlan(
        "email_promotions",
        "E-mail: promotions subscribers",
        "Customers with a valid e-mail address subscribed to promotions by e-mail (a random 3,500)",
        "email",
        "promotions",
        3500,
    ),
    AudiencePlan(
        "email_recent",
        "E-mail: bought in the last 90 days",
        "Recent buyers with a valid e-mail address subscribed to promotions",
        "email",
        "promotions",
        3000,
        recent_days=90,
    ),
    AudiencePlan(
        "email_offer",
        "E-mail: personal offer",
        "A random 1,500 of the recent buyers with a valid e-mail address subscribed to personal offers",
        "email",
        "personal_offers",
        1500,
        recent_days=90,
    ),
    AudiencePlan(
        "email_news",
        "E-mail: newsletter readers",
        "Customers subscribed to the news by e-mail",
        "email",
        "news",
        3000,
    ),
    AudiencePlan(
        "email_loyal",
        "E-mail: frequent buyers",
        "Three receipts or more in the last 180 days, subscribed to personal offers by e-mail",
        "email",
        "personal_offers",
        2500,
        recent_days=180,
        min_receipts=3,
    ),
    AudiencePlan(
        "sms_lapsed",
        "SMS: lapsed buyers",
        "Bought before, but nothing in the last 120 days; a mobile number and SMS promotions",
        "sms",
        "promotions",
        1500,
        lapsed_days=120,
    ),
    AudiencePlan(
        "sms_recent",
        "SMS: bought in the last 60 days",
        "Recent buyers with a mobile number subscribed to promotions by SMS",
        "sms",
        "promotions",
        1500,
        recent_days=60,
    ),
    AudiencePlan(
        "sms_visitors",
        "SMS: visited a store in the last 30 days",
        "Recent buyers with a mobile number subscribed to personal offers by SMS: asked about their visit",
        "sms",
        "personal_offers",
        1200,
        recent_days=30,
    ),
    AudiencePlan(
        "push_app",
        "App users",
        "Customers with the mobile app (a valid push token) subscribed to promotions in it",
        "push",
        "promotions",
        2000,
    ),
)

EMAIL_READERS = Engagement(
    opened=0.24, clicked=0.035, machine_opened=0.10, unsubscribed=0.003, complained=0.0004, buyers=0.2
)

MAILINGS = (
    MailingPlan(
        "Autumn sale",
        "email",
        "autumn_sale",
        "email_promotions",
        "promotions",
        days_ago=86,
        clock="11:00",
        engagement=EMAIL_READERS,
        utm_campaign="autumn_sale",
    ),
    MailingPlan(
        "Come back for 300 bonus points",
        "sms_viber",
        "comeback_viber",
        "sms_lapsed",
        "promotions",
        days_ago=78,
        clock="12:30",
        fates=VIBER,
        engagement=Engagement(opened=0.55, clicked=0.04, buyers=0.12),
        sms_template="comeback_sms",
        utm_campaign="comeback",
    ),
    MailingPlan(
        "New winter collection",
        "email",
        "winter_a",
        "email_recent",
        "promotions",
        days_ago=64,
        clock="10:00",
        engagement=Engagement(
            opened=0.26, clicked=0.04, machine_opened=0.10, unsubscribed=0.003, buyers=0.22
        ),
        variants=(
            VariantPlan("winter_a", "Новая зимняя коллекция уже в магазинах", 0.20),
            VariantPlan("winter_b", "{{ client.first_name }}, ваша зимняя коллекция готова ❄", 0.28),
        ),
        utm_campaign="winter_collection",
    ),
    MailingPlan(
        "New arrivals in the app",
        "push",
        "new_arrivals_push",
        "push_app",
        "promotions",
        days_ago=55,
        clock="19:00",
        fates=PUSH,
        engagement=Engagement(opened=0.08, buyers=0.15),
    ),
    MailingPlan(
        "Weekend -20 %",
        "email",
        "weekend_sale",
        "email_promotions",
        "promotions",
        days_ago=47,
        clock="09:30",
        control_strata=("gender",),
        engagement=Engagement(
            opened=0.21, clicked=0.03, machine_opened=0.10, unsubscribed=0.003, buyers=0.21
        ),
        utm_campaign="weekend_20",
    ),
    MailingPlan(
        "Welcome offer: 10 % off",  # each letter shows its own code of the WELCOME group (`promos`)
        "email",
        "welcome_offer",
        "email_offer",
        "personal_offers",
        days_ago=40,
        clock="10:30",
        engagement=Engagement(
            opened=0.33, clicked=0.05, machine_opened=0.10, unsubscribed=0.002, buyers=0.15
        ),
        utm_campaign="welcome_offer",
    ),
    MailingPlan(
        "Loyalty points reminder",
        "email",
        "points_reminder",
        "email_loyal",
        "personal_offers",
        days_ago=35,
        clock="18:00",
        engagement=Engagement(
            opened=0.30, clicked=0.05, machine_opened=0.10, unsubscribed=0.002, buyers=0.18
        ),
        utm_campaign="points_reminder",
    ),
    MailingPlan(
        "How was your visit? (poll)",  # the link to the poll "How was your visit?" (`polls`)
        "sms",
        "visit_poll_sms",
        "sms_visitors",
        "personal_offers",
        days_ago=21,
        clock="18:30",
        control_percent=0.0,
        fates=SMS,
        engagement=Engagement(buyers=0.0),  # its link is the poll's public page: answered, not clicked
    ),
    MailingPlan(
        "Weekend flash sale",
        "push",
        "flash_sale_push",
        "push_app",
        "promotions",
        days_ago=20,
        clock="12:00",
        control_percent=0.0,
        fates=PUSH,
        engagement=Engagement(opened=0.08, buyers=0.15),
    ),
    MailingPlan(
        "Black Friday",
        "email",
        "black_friday",
        "email_promotions",
        "promotions",
        days_ago=9,
        clock="08:00",
        engagement=Engagement(
            opened=0.27,
            clicked=0.045,
            machine_opened=0.10,
            unsubscribed=0.004,
            complained=0.0005,
            buyers=0.2,
        ),
        utm_campaign="black_friday",
    ),
    MailingPlan(
        "Black Friday: last day",
        "sms",
        "black_friday_sms",
        "sms_recent",
        "promotions",
        days_ago=7,
        clock="12:00",
        fates=SMS,
        engagement=Engagement(clicked=0.03, buyers=0.03),
        utm_campaign="black_friday",
    ),
    MailingPlan(
        "December newsletter",
        "email",
        "december_news",
        "email_news",
        "news",
        days_ago=3,
        clock="10:00",
        engagement=Engagement(
            opened=0.19, clicked=0.02, machine_opened=0.10, unsubscribed=0.003, buyers=0.22
        ),
        utm_campaign="december_news",
    ),
)


@dataclass(frozen=True)
class AheadPlan:
    """A mailing still ahead: scheduled (launched for its moment) or a draft with a moment pencilled in."""

    name: str
    channel: str
    template: str
    audience: str
    category: str
    days_ahead: int
    clock: str
    launch: bool


AHEAD = (
    AheadPlan("Christmas gifts", "email", "christmas", "email_promotions", "promotions", 3, "10:00", True),
    AheadPlan("New Year greetings", "sms", "new_year_sms", "sms_recent", "promotions", 10, "11:00", False),
)


def history_names() -> list[str]:
    """Every mailing name of the history: any of them present means the history was made before."""
    return [plan.name for plan in MAILINGS] + [plan.name for plan in AHEAD]
