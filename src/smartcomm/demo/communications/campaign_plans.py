"""What the demo's trigger campaigns are: which instant campaign each was made from, when the marketer made
it and the senior marketer activated (or suspended) it, and how their recipients react.

Days are counted back from today in the project time zone, clocks are its wall clock. Rates are each
recipient's chances (a trigger campaign sends a few messages at a time), higher than a mass mailing's:
a message that answers something the customer just did is read more.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smartcomm.demo.communications.plans import Engagement


@dataclass(frozen=True)
class Moment:
    days_ago: int
    clock: str  # hh:mm


@dataclass(frozen=True)
class CampaignPlan:
    name: str
    recipe: str  # the key of the instant campaign it was made from
    description: str
    made: Moment
    activated: Moment | None = None  # None: still a draft
    suspended: Moment | None = None
    history: bool = False  # walked through its past by the engine (else it starts with the worker)
    # Its last look (a scheduled trigger) this many hours before the present, so that the worker's first
    # look enters what happened since.
    quiet_hours: int = 0
    reactions: dict[str, Engagement] = field(default_factory=dict)  # per send node
    codes: dict[str, str] = field(default_factory=dict)  # send node → the promo code group its letter shows


WELCOME = CampaignPlan(
    "Welcome series",
    "welcome",
    "A welcome letter to every new customer; three days later a WELCOME promo code for those who have not "
    "bought anything yet",
    made=Moment(63, "16:40"),
    activated=Moment(62, "11:05"),
    history=True,
    reactions={
        "hello": Engagement(opened=0.46, clicked=0.08, machine_opened=0.10, unsubscribed=0.004, buyers=0.12),
        "promo": Engagement(opened=0.42, clicked=0.11, machine_opened=0.10, unsubscribed=0.004, buyers=0.3),
    },
    codes={"promo": "WELCOME"},
)
BIRTHDAY = CampaignPlan(
    "Birthday with a promo code",
    "birthday",
    "On the birthday at 10:00 an e-mail with a BIRTHDAY gift code; whoever has not read it a day later gets "
    "the code by SMS",
    made=Moment(2, "17:10"),
    activated=Moment(1, "15:30"),
)
ABANDONED_CART = CampaignPlan(
    "Abandoned cart",
    "abandoned_cart",
    "A reminder of the products left in the cart on the site, and an SMS a day later if the e-mail was not "
    "read; an order or a purchase on the site ends it",
    made=Moment(15, "12:20"),
    activated=Moment(14, "10:30"),
    history=True,
    quiet_hours=6,
    reactions={
        "cart_email": Engagement(
            opened=0.44, clicked=0.14, machine_opened=0.10, unsubscribed=0.003, buyers=0.2, clicked_buyers=0.7
        ),
        "cart_sms": Engagement(clicked=0.07, buyers=0.08),
    },
)
LOST_VIEW = CampaignPlan(
    "Lost view of a product",
    "lost_view",
    "Two hours after a product was looked at on the site and not put into the cart, an e-mail invites the "
    "customer back. Suspended while the abandoned cart reminders are tested",
    made=Moment(26, "14:00"),
    activated=Moment(25, "11:20"),
    suspended=Moment(11, "17:45"),
    history=True,
    reactions={
        "come_back": Engagement(
            opened=0.31, clicked=0.06, machine_opened=0.10, unsubscribed=0.005, buyers=0.1
        )
    },
)
WIN_BACK = CampaignPlan(
    "Win-back",
    "win_back",
    "Ninety days after the last receipt, regular customers get a promo code, and a reminder a week later. "
    "Waiting for its promo code group",
    made=Moment(1, "12:15"),
)
CAMPAIGNS = (WELCOME, BIRTHDAY, ABANDONED_CART, LOST_VIEW, WIN_BACK)


def campaign_names() -> list[str]:
    """Every campaign name of the demo: any of them present means the campaigns were made before."""
    return [plan.name for plan in CAMPAIGNS]
