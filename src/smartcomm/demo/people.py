"""Demo customers: Russian (and some English) names, contacts with realistic flaws, buying habits.

Names come from pools drawn once from a seeded Faker, so a million customers cost a million cheap
choices instead of a million Faker calls. Valid contacts are stored already normalised (E.164 phones,
lower-case e-mails), invalid ones as a person would have typed them.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from faker import Faker

from smartcomm.demo.calendar import Calendar
from smartcomm.demo.catalogue import DEPARTMENTS
from smartcomm.demo.places import CITIES, COUNTRY

POOL_DRAWS = 600
ENGLISH_SHARE = 0.06
COMMON_SHARE = 0.8  # most people carry one of the common names; the rest come from Faker's long tail
# Common first names and patronymics, as words of one string each.
COMMON_NAMES = {
    "m": "Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Артём Николай Владимир Денис "
    "Павел Роман Игорь Олег Антон Константин Кирилл Никита Юрий Виктор Илья Егор Вадим Григорий Тимур",
    "f": "Елена Ольга Наталья Анна Татьяна Екатерина Мария Ирина Светлана Юлия Анастасия Марина Дарья Ксения "
    "Валентина Людмила Галина Надежда Алина Виктория Полина Вера Оксана Софья Кристина Алёна",
}
COMMON_PATRONYMICS = (
    "Александрович Сергеевич Дмитриевич Андреевич Алексеевич Владимирович Николаевич Викторович Игоревич "
    "Михайлович Евгеньевич Иванович Олегович Анатольевич Юрьевич Павлович Петрович Васильевич Геннадьевич "
    "Валерьевич"
)
_CYRILLIC, _LATIN_SPELLINGS = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya",
)
_LATIN = dict(zip(_CYRILLIC, _LATIN_SPELLINGS.split(), strict=True))  # "_": letters that are not spelled
# Mobile operator codes 900–999; 930 is left out because part of its range is not allocated.
MOBILE_CODES = tuple(str(code) for code in range(900, 1000) if code != 930)
# fmt: off
RU_DOMAINS = {"mail.ru": 30, "yandex.ru": 26, "gmail.com": 16, "bk.ru": 6, "inbox.ru": 5, "list.ru": 5,
              "rambler.ru": 5, "ya.ru": 4, "outlook.com": 3}
# fmt: on
EN_DOMAINS = {"gmail.com": 50, "outlook.com": 20, "yahoo.com": 15, "icloud.com": 15}

# Buying habits: who never buys, who buys once, and how often the others buy per year.
NEVER, ONCE, REPEAT = 0, 1, 2
NEVER_SHARE, ONCE_SHARE = 0.05, 0.38
REPEAT_RATES = ((0.62, 1.2, 4.5), (0.30, 7.0, 18.0), (0.08, 42.0, 56.0))  # share, receipts per year low–high


def transliterate(name: str) -> str:
    return "".join(_LATIN.get(ch, ch) for ch in name.lower()).replace("_", "")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    middle: str | None
    latin_first: str
    latin_last: str
    gender: str


class NamePools:
    """Distinct names per locale and gender, drawn once from a seeded Faker."""

    def __init__(self, seed: int) -> None:
        faker = Faker(["ru_RU", "en_US"])
        faker.seed_instance(seed)
        ru, en = faker["ru_RU"], faker["en_US"]
        self.ru = {
            "m": (_pool(ru.first_name_male), _pool(ru.last_name_male), _pool(ru.middle_name_male)),
            "f": (_pool(ru.first_name_female), _pool(ru.last_name_female), _pool(ru.middle_name_female)),
        }
        self.en = {"m": _pool(en.first_name_male), "f": _pool(en.first_name_female)}
        self.en_last = _pool(en.last_name)
        self.streets = _pool(ru.street_name, 200)
        self.common = {gender: names.split() for gender, names in COMMON_NAMES.items()}
        self.patronymics = COMMON_PATRONYMICS.split()

    def person(self, rng: random.Random, gender: str) -> Person:
        if rng.random() < ENGLISH_SHARE:
            first, last = rng.choice(self.en[gender]), rng.choice(self.en_last)
            return Person(first, last, None, first.lower(), last.lower(), gender)
        firsts, lasts, middles = self.ru[gender]
        common = rng.random() < COMMON_SHARE
        first = rng.choice(self.common[gender]) if common else rng.choice(firsts)
        middle = _patronymic(rng.choice(self.patronymics), gender) if common else rng.choice(middles)
        last = rng.choice(lasts)
        return Person(first, last, middle, transliterate(first), transliterate(last), gender)


def _patronymic(male: str, gender: str) -> str:
    """The female form of a regular patronymic: Сергеевич -> Сергеевна, Иванович -> Ивановна."""
    return male if gender == "m" else male[:-2] + "на"


def _pool(draw: Any, draws: int = POOL_DRAWS) -> list[str]:
    return sorted({str(draw()) for _ in range(draws)})


class Weighted:
    """Picks keys in proportion to their weights (a binary search in the cumulative weights)."""

    def __init__(self, weights: dict[Any, float]) -> None:
        self.keys = list(weights)
        self.cumulative = list(accumulate(weights.values()))

    def pick(self, rng: random.Random) -> Any:
        return self.keys[bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


class Shopper:
    """One customer while the generator works: profile, habits and the aggregates of paid receipts."""

    __slots__ = (
        "app_user",
        "card",
        "city",
        "email_ok",
        "external_id",
        "favourite",
        "habit",
        "home_store",
        "id",
        "mobile",
        "online_first",
        "paid_count",
        "paid_first",
        "paid_last",
        "paid_total",
        "profile",
        "rate",
        "redemptions",
        "registered",
        "registered_day",
        "web_user",
    )

    def __init__(self, id_: int, external_id: str) -> None:
        self.id = id_
        self.external_id = external_id
        self.paid_count = 0
        self.paid_total = 0
        self.paid_first = 0
        self.paid_last = 0
        self.redemptions: list[tuple[int, str, int]] = []  # (seconds, receipt number, bonus spent)
        self.profile: tuple[Any, ...] = ()
        self.favourite = 0
        self.habit = NEVER
        self.rate = 0.0
        self.registered_day = 0
        self.registered = 0
        self.city = 0
        self.home_store = 0
        self.online_first = False
        self.card = False
        self.email_ok = False
        self.mobile = False
        self.app_user = False
        self.web_user = False

    def paid(self, seconds: int, total: int) -> None:
        if self.paid_count == 0 or seconds < self.paid_first:
            self.paid_first = seconds
        self.paid_last = max(self.paid_last, seconds)
        self.paid_count += 1
        self.paid_total += total


class People:
    """Makes the customers of the base one by one, deterministically from one random stream."""

    def __init__(
        self,
        rng: random.Random,
        pools: NamePools,
        calendar: Calendar,
        stores_by_city: dict[int, list[int]],
        online_store: int,
        day_value: Callable[[date], Any],
    ) -> None:
        self.rng = rng
        self.day_value = day_value
        self.pools = pools
        self.calendar = calendar
        self.stores_by_city = stores_by_city
        self.online_store = online_store
        self.cities = Weighted({index: city.share for index, city in enumerate(CITIES)})
        self.departments = Weighted({index: d.share for index, d in enumerate(DEPARTMENTS)})
        self.ru_domains = Weighted(dict(RU_DOMAINS))
        self.en_domains = Weighted(dict(EN_DOMAINS))

    def shopper(self, number: int, id_: int) -> Shopper:
        rng = self.rng
        shopper = Shopper(id_, str(100_000_001 + number))
        shopper.city = self.cities.pick(rng)
        shopper.online_first = rng.random() < 0.12
        stores = self.stores_by_city[shopper.city]
        shopper.home_store = self.online_store if shopper.online_first else rng.choice(stores)
        shopper.registered_day = self.calendar.pick(rng, 0, self.calendar.days - 1)
        local = self.calendar.local_seconds(rng, shopper.online_first)
        shopper.registered = (
            self.calendar.midnight[shopper.registered_day] + local - CITIES[shopper.city].utc_offset * 3600
        )
        shopper.favourite = self.departments.pick(rng)
        shopper.habit, shopper.rate = habit(rng)
        shopper.profile = self._profile(shopper, number)
        shopper.app_user = rng.random() < (0.32 if shopper.mobile else 0.08)
        shopper.web_user = rng.random() < (0.7 if shopper.online_first else 0.16)
        return shopper

    def _profile(self, shopper: Shopper, number: int) -> tuple[Any, ...]:
        rng = self.rng
        gender = "f" if rng.random() < 0.56 else "m"
        person = self.pools.person(rng, gender)
        city = CITIES[shopper.city]
        email, email_valid = self.email(person)
        phone, phone_valid, phone_type = self.phone(city.area_code)
        shopper.email_ok = email_valid
        shopper.mobile = phone_type == "mobile"
        card, status = self.card(number)
        shopper.card = status == "active"
        return (
            person.first,
            person.last,
            person.middle,
            None if rng.random() < 0.03 else gender,
            self.birth_date(),
            COUNTRY,
            city.region,
            city.name,
            city.time_zone,
            card,
            status,
            email,
            email_valid,
            phone,
            phone_valid,
            phone_type,
            rng.random() < 0.93,
            rng.random() < 0.88,
            rng.random() < 0.85,
            rng.random() < 0.9,
        )

    def email(self, person: Person) -> tuple[str | None, bool]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.11:
            return None, False
        english = person.middle is None
        domain = (self.en_domains if english else self.ru_domains).pick(rng)
        local = self._local_part(person)
        if roll < 0.15:  # typed wrong: no top-level domain, no @, doubled @ or a space
            broken = rng.choice(
                (
                    f"{local}@{domain.split('.')[0]}",
                    f"{local}{domain}",
                    f"{local}@@{domain}",
                    f"{local} @{domain}",
                )
            )
            return broken, False
        return f"{local}@{domain}", True

    def _local_part(self, person: Person) -> str:
        rng = self.rng
        first, last = person.latin_first, person.latin_last
        local = rng.choice(
            (
                f"{first}.{last}",
                f"{last}.{first}",
                f"{first[0]}.{last}",
                f"{last}",
                f"{first}_{last}",
                f"{first}{last}",
            )
        )
        if rng.random() < 0.55:
            local += str(rng.choice((rng.randint(1, 99), rng.randint(1960, 2006), rng.randint(100, 999))))
        return local.replace(" ", "").replace("'", "")

    def phone(self, area_code: str) -> tuple[str | None, bool, str | None]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.06:
            return None, False, None
        if roll < 0.10:  # too short or garbled, as typed at the till
            return (
                rng.choice(
                    (
                        f"8-9{rng.randint(10, 99)}-{rng.randint(100, 999)}",
                        f"{rng.randint(10000, 999999)}",
                        f"+7 (9{rng.randint(10, 99)}) {rng.randint(10, 99)}-{rng.randint(0, 9)}",
                    )
                ),
                False,
                None,
            )
        if roll < 0.17:
            digits = 10 - len(area_code)
            local = rng.randint(2 * 10 ** (digits - 1), 10**digits - 1)
            return f"+7{area_code}{local}", True, "landline"
        return f"+7{rng.choice(MOBILE_CODES)}{rng.randrange(10**7):07d}", True, "mobile"

    def card(self, number: int) -> tuple[str | None, str | None]:
        roll = self.rng.random()
        if roll < 0.05:
            return None, None
        body = f"277{(number * 7919 + 1_234_567) % 10**9:09d}"  # a permutation: every customer differs
        status = "blocked" if roll < 0.07 else "inactive" if roll < 0.11 else "active"
        return body + _ean_check_digit(body), status

    def birth_date(self) -> Any:
        rng = self.rng
        if rng.random() < 0.08:
            return None
        age_days = int(rng.triangular(18, 78, 34) * 365.25)
        return self.day_value(self.calendar.as_of - timedelta(days=age_days))


def habit(rng: random.Random) -> tuple[int, float]:
    """Never, once, or repeat with a yearly purchase rate (occasional, regular, the weekly core)."""
    roll = rng.random()
    if roll < NEVER_SHARE:
        return NEVER, 0.0
    if roll < NEVER_SHARE + ONCE_SHARE:
        return ONCE, 1.0
    pick = rng.random()
    for share, low, high in REPEAT_RATES:
        if pick < share:
            return REPEAT, rng.uniform(low, high)
        pick -= share
    return REPEAT, rng.uniform(REPEAT_RATES[-1][1], REPEAT_RATES[-1][2])


def _ean_check_digit(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return str((10 - total % 10) % 10)
