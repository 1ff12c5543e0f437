"""The demo's poll "How was your visit?" and the SMS that asked recent visitors to answer it.

The poll is made by the poll service before the templates are saved (a template naming an unknown poll is
refused), and the SMS template names its code, which exists only then. Each message handed over records
its invitation (as the dispatcher's render does, dated at the message); a quarter of the recipients whose
SMS was delivered answer — most within a few hours, the others over the next days — through the
answering code, so the responses, their answer rows and the "poll.answered" events are those a real
answer writes.

Most visitors are pleased; those who rate the visit fair or poor say what to improve, and some leave a
comment (a few in Russian). The same seed always gives the same answers.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.demo.communications.templates import Template
from smartcomm.demo.repository import DemoRepository
from smartcomm.kit.time import ensure_utc
from smartcomm.models import Message, Poll
from smartcomm.polls import answering
from smartcomm.polls.links import record_invitation
from smartcomm.polls.schemas import PollIn
from smartcomm.polls.service import poll_service

POLL_NAME = "How was your visit?"
POLL_MAILING = "How was your visit? (poll)"
TEMPLATE_KEY = "visit_poll_sms"
ANSWERED = 0.25  # of the messages delivered
SOON = 0.6  # of those who answer, the share who do within a few hours of the SMS
LOW_RATINGS = ("fair", "poor")

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "q1",
        "type": "single",
        "title": "How would you rate your last visit?",
        "required": True,
        "options": [
            {"id": "excellent", "label": "Excellent"},
            {"id": "good", "label": "Good"},
            {"id": "fair", "label": "Fair"},
            {"id": "poor", "label": "Poor"},
        ],
    },
    {
        "id": "q2",
        "type": "multiple",
        "title": "What should we improve?",
        "description": "Choose up to two",
        "max_choices": 2,
        "options": [
            {"id": "range", "label": "Product range"},
            {"id": "prices", "label": "Prices"},
            {"id": "queues", "label": "Queues at the checkout"},
            {"id": "staff", "label": "Staff friendliness"},
            {"id": "cleanliness", "label": "Cleanliness"},
        ],
        "conditions": [{"question": "q1", "options": list(LOW_RATINGS)}],
    },
    {
        "id": "q3",
        "type": "matrix",
        "title": "Rate each part of the store",
        "rows": [
            {"id": "cleanliness", "label": "Cleanliness"},
            {"id": "staff", "label": "Staff"},
            {"id": "checkout", "label": "Checkout"},
        ],
        "options": [
            {"id": "good", "label": "Good"},
            {"id": "ok", "label": "OK"},
            {"id": "bad", "label": "Bad"},
        ],
    },
    {"id": "q4", "type": "open", "title": "Anything else you would like to tell us?"},
]

RATINGS = {"excellent": 38, "good": 37, "fair": 17, "poor": 8}
IMPROVE = {"range": 3, "prices": 4, "queues": 5, "staff": 2, "cleanliness": 2}
# How a part of the store is rated by those who rated the visit so: weights of good, OK and bad.
PARTS = {"excellent": (85, 13, 2), "good": (60, 35, 5), "fair": (25, 50, 25), "poor": (10, 35, 55)}
COMMENTED = {"excellent": 0.3, "good": 0.25, "fair": 0.5, "poor": 0.65}
PRAISE = (
    "Friendly staff, thank you!",
    "Everything was great, as always.",
    "The new store layout is much easier to find things in.",
    "Quick checkout even on a Saturday.",
    "Great selection of fresh bread.",
    "The cashier helped me use my bonus points, very kind.",
    "Love the self-checkout machines.",
    "Clean and bright store, pleasant to shop in.",
    "Good prices on the weekly offers.",
    "The consultant in the household section was very helpful.",
    "I always find what I need.",
    "Nice Christmas decorations this year!",
    "Please keep the 24-hour opening.",
    "Parking was easy and the trolleys were clean.",
    "Всё понравилось, спасибо!",
    "Очень вежливый персонал.",
)
COMPLAINTS = (
    "Only two checkouts open in the evening, long queue.",
    "Some price tags did not match the price at the checkout.",
    "The milk I wanted was sold out again.",
    "The floor near the entrance was wet and dirty.",
    "Could not find a consultant in the electronics section.",
    "Please bring back the oat milk you used to sell.",
    "The self-checkout kept asking for assistance.",
    "Prices went up noticeably this month.",
    "The bonus points did not arrive after my purchase.",
    "Fruit was not very fresh.",
    "Too few baskets at the entrance.",
    "The music in the store is too loud.",
    "Очередь на кассе 15 минут, работала одна касса.",
    "Не хватает товаров по акции из рассылки.",
)


def add_poll(session: Session, actor: Actor) -> Poll:
    """The poll, made unless a poll of its name exists (then that one is used as it is)."""
    found = DemoRepository(session).poll_named(POLL_NAME)
    if found is not None:
        return found
    data = PollIn.model_validate(
        {
            "name": POLL_NAME,
            "description": "Asked by SMS of customers who visited a store in the last month",
            "questions": QUESTIONS,
            "thank_you": "Thank you! Your answers help us make our stores better.",
        }
    )
    return poll_service.create(session, actor, data)


def sms_template(poll: Poll) -> dict[str, Template]:
    """The SMS with the customer's link to the poll (its code is known once the poll exists)."""
    text = (
        "{{ client.first_name }}, как прошёл ваш визит в {{ company }}? "
        f"Ответьте на 4 вопроса: {{{{ client.poll('{poll.code}') }}}}"
    )
    description = "Опрос «How was your visit?» для покупателей, побывавших в магазине за последний месяц."
    return {TEMPLATE_KEY: (POLL_MAILING, description, {"channel": "sms", "text": text})}


def add_answers(session: Session, now: datetime, zone: str) -> int:
    """Record the invitations of the poll's SMS and the answers of a quarter of those who got it;
    returns how many answered."""
    repository = DemoRepository(session)
    poll = repository.poll_named(POLL_NAME)
    messages = [m for m in repository.handed_messages(POLL_MAILING) if m.customer_id and m.sent_at]
    if poll is None or not messages:
        return 0
    for message in messages:
        record_invitation(session, poll, int(message.customer_id or 0), message.id)
    repository.date_invitations([(m.id, ensure_utc(m.sent_at)) for m in messages if m.sent_at])
    rng = random.Random("smartcomm-demo-poll")  # noqa: S311 (demo data, not secrets)
    answers = sorted(_respondents(messages, now, ZoneInfo(zone), rng), key=lambda pair: pair[1])
    for message, at in answers:
        answering.answer(session, poll, int(message.customer_id or 0), message.id, _answers(rng), now=at)
    return len(answers)


def _respondents(
    messages: list[Message], now: datetime, zone: ZoneInfo, rng: random.Random
) -> list[tuple[Message, datetime]]:
    """A quarter of the recipients whose SMS was delivered, each with the moment they answered."""
    delivered = [m for m in messages if m.delivered_at is not None]
    chosen = rng.sample(delivered, min(len(delivered), round(len(delivered) * ANSWERED)))
    return [(m, _answer_time(ensure_utc(m.delivered_at or now), now, zone, rng)) for m in chosen]


def _answer_time(delivered: datetime, now: datetime, zone: ZoneInfo, rng: random.Random) -> datetime:
    """Most answer within a couple of hours of the SMS; the others in a free moment of the next days.
    (The poll's link is a public page, which is not click-tracked: the SMS has no click to follow.)"""
    if rng.random() < SOON:
        moment = delivered + timedelta(seconds=rng.randint(60, 3 * 3600))
    else:
        day = delivered.astimezone(zone).date() + timedelta(days=rng.choice((1, 1, 1, 2, 2, 3)))
        moment = datetime.combine(day, time(rng.randint(8, 22), rng.randrange(60), rng.randrange(60)), zone)
    return moment if moment < now else now - timedelta(seconds=rng.randint(60, 3600))


def _answers(rng: random.Random) -> dict[str, Any]:
    """One visitor's answers: a rating, what to improve after a poor one, the parts, maybe a comment."""
    rating = _pick(rng, RATINGS)
    answers: dict[str, Any] = {"q1": rating}
    if rating in LOW_RATINGS and rng.random() < 0.9:
        wanted = 1 if rng.random() < 0.45 else 2
        answers["q2"] = sorted({_pick(rng, IMPROVE) for _ in range(wanted)})
    if rng.random() < 0.85:
        weights = PARTS[rating]
        answers["q3"] = {
            row: rng.choices(("good", "ok", "bad"), weights)[0]
            for row in ("cleanliness", "staff", "checkout")
        }
    if rng.random() < COMMENTED[rating]:
        answers["q4"] = rng.choice(COMPLAINTS if rating in LOW_RATINGS else PRAISE)
    return answers


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]
