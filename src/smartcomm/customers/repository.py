"""SQL of customers, push tokens and subscriptions."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from itertools import permutations
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import Customer, MailingCategory, PushToken, Receipt, Subscription
from smartcomm.models.receipts import PURCHASE_STATUSES

# Customers without a value (no purchase, no registration date) come last in both directions, on both
# databases (PostgreSQL and SQLite disagree about where NULL sorts by default).
SORTS = {
    "name": (Customer.last_name.asc().nulls_last(), Customer.first_name.asc().nulls_last(), Customer.id),
    "-name": (
        Customer.last_name.desc().nulls_last(),
        Customer.first_name.desc().nulls_last(),
        Customer.id.desc(),
    ),
    "registered": (Customer.registered_at.asc().nulls_last(), Customer.id),
    "-registered": (Customer.registered_at.desc().nulls_last(), Customer.id.desc()),
    "last_purchase": (Customer.last_purchase_at.asc().nulls_last(), Customer.id),
    "-last_purchase": (Customer.last_purchase_at.desc().nulls_last(), Customer.id.desc()),
    "total": (Customer.total_amount, Customer.id),
    "-total": (Customer.total_amount.desc(), Customer.id.desc()),
    "receipts": (Customer.receipt_count, Customer.id),
    "-receipts": (Customer.receipt_count.desc(), Customer.id.desc()),
    "id": (Customer.id,),
    "-id": (Customer.id.desc(),),
}
CHUNK = 5000


# ---------------------------------------------------------------- contact data quality buckets
# Judged from the stored columns the intake wrote (customers.contacts): the same facts the send gate reads.


def _given(column: Any) -> ColumnElement[bool]:
    return and_(column.is_not(None), column != "")


def _shared(column: Any) -> ColumnElement[bool]:
    """The customer's value is also another customer's (compared as stored: normalised when valid)."""
    shared = select(column).where(_given(column)).group_by(column).having(func.count() > 1)
    return and_(_given(column), column.in_(shared))


def _has_valid_push_token() -> ColumnElement[bool]:
    return exists(select(PushToken.id).where(PushToken.customer_id == Customer.id, PushToken.is_valid))


def _valid_phone(phone_type: str | None) -> ColumnElement[bool]:
    of_type = (
        Customer.phone_type == phone_type
        if phone_type
        else or_(Customer.phone_type.is_(None), Customer.phone_type.not_in(("mobile", "landline")))
    )
    return and_(_given(Customer.phone), Customer.phone_valid.is_(True), of_type)


# The buckets by name: a value of the customer list's `contact` filter.
ContactBucket = Literal[
    "email_valid",
    "email_invalid",
    "email_missing",
    "email_duplicate",
    "phone_mobile",
    "phone_landline",
    "phone_other",
    "phone_invalid",
    "phone_missing",
    "phone_duplicate",
    "push_valid",
    "push_missing",
]
CONTACT_BUCKETS: dict[str, Any] = {
    "email_valid": lambda: and_(_given(Customer.email), Customer.email_valid.is_(True)),
    "email_invalid": lambda: and_(_given(Customer.email), Customer.email_valid.is_(False)),
    "email_missing": lambda: not_(_given(Customer.email)),
    "email_duplicate": lambda: _shared(Customer.email),
    "phone_mobile": lambda: _valid_phone("mobile"),
    "phone_landline": lambda: _valid_phone("landline"),
    "phone_other": lambda: _valid_phone(None),
    "phone_invalid": lambda: and_(_given(Customer.phone), Customer.phone_valid.is_(False)),
    "phone_missing": lambda: not_(_given(Customer.phone)),
    "phone_duplicate": lambda: _shared(Customer.phone),
    "push_valid": _has_valid_push_token,
    "push_missing": lambda: not_(_has_valid_push_token()),
}


def contact_bucket(name: str) -> ColumnElement[bool]:
    """The customers of a contact data quality bucket (KeyError for an unknown name)."""
    built: ColumnElement[bool] = CONTACT_BUCKETS[name]()
    return built


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def lowered_forms(typed: str, is_sqlite: bool) -> list[str]:
    """What lower(name) holds for the ways a name typed like this may be stored.

    PostgreSQL's lower() folds every script, so one form suffices. SQLite's folds ASCII letters only:
    "Иванова" stays "Иванова", and "иванова" typed in the search must be tried as it is, capitalised,
    title-cased and in capitals to find her (each form still a prefix range on the same index)."""
    if not is_sqlite:
        return [typed.lower()]
    spellings = (typed, typed.lower(), typed.capitalize(), typed.title(), typed.upper())
    return list(dict.fromkeys(spelling.translate(_ASCII_LOWER) for spelling in spellings))


# The parts of a full name; a search of two or three words may give them in any order.
NAME_PARTS = ("last_name", "first_name", "middle_name")


def full_name_matches(words: Sequence[str], is_sqlite: bool) -> list[Any]:
    """A full name typed in any order: "Ильин Эдуард Гертрудович", "эдуард ильин", "Эдуард Гертрудович Ильин".

    Each word names a different part; the last word may still be being typed, so it is a prefix. One of
    the words is the last name: every alternative starts from a lookup on the lower(last_name) index (a
    customer without a last name from lower(last_name) IS NULL), so a full-name search never reads the
    whole base. The alternatives are meant to be OR-ed at the top of the WHERE clause, where SQLite can
    use an index for each of them."""
    typed = [(word, index == len(words) - 1) for index, word in enumerate(words)]
    alternatives = [
        and_(found, _other_parts(typed[:at] + typed[at + 1 :], is_sqlite))
        for at, (word, is_prefix) in enumerate(typed)
        for found in _last_name_is(word, is_prefix, is_sqlite)
    ]
    if len(words) < len(NAME_PARTS):
        alternatives.append(and_(func.lower(Customer.last_name).is_(None), _other_parts(typed, is_sqlite)))
    return alternatives


def last_name_starts(typed: str, is_sqlite: bool) -> list[Any]:
    """Prefix ranges on lower(last_name), one per stored spelling (each can use the expression index)."""
    lowered = func.lower(Customer.last_name)
    return [and_(lowered >= form, lowered < form + "\uffff") for form in lowered_forms(typed, is_sqlite)]


def _last_name_is(word: str, is_prefix: bool, is_sqlite: bool) -> list[Any]:
    if is_prefix:
        return last_name_starts(word, is_sqlite)
    return [func.lower(Customer.last_name).in_(lowered_forms(word, is_sqlite))]


def _holds_receipt(number: str, is_sqlite: bool) -> Any:
    """The customers of the receipts with this number."""
    holders = select(Receipt.customer_id).where(Receipt.number == number)
    if is_sqlite:
        return Customer.id.in_(holders)
    # PostgreSQL cannot use an index for IN (subquery) inside an OR, and then reads every customer for
    # every search; an array computed once beforehand (an InitPlan) keeps the primary key in the plan.
    found = select(func.array_agg(Receipt.customer_id)).where(Receipt.number == number).scalar_subquery()
    return Customer.id == any_(cast(found, ARRAY(BigInteger)))


def _other_parts(typed: Sequence[tuple[str, bool]], is_sqlite: bool) -> Any:
    """The words (word, is_prefix) are the first and middle names, in either order, one word a part."""
    parts = (Customer.first_name, Customer.middle_name)
    return or_(
        *(
            and_(
                *(
                    _part_is(column, word, is_prefix, is_sqlite)
                    for column, (word, is_prefix) in zip(order, typed, strict=True)
                )
            )
            for order in permutations(parts, len(typed))
        )
    )


def _part_is(column: Any, word: str, is_prefix: bool, is_sqlite: bool) -> Any:
    # Only ever tested on the rows the last-name index found: folding every script costs nothing here.
    folded, lowered = (func.unicode_lower(column) if is_sqlite else func.lower(column)), word.lower()
    if is_prefix:
        return and_(folded >= lowered, folded < lowered + "\uffff")
    return folded == lowered


class CustomerRepository(Repository[Customer]):
    model = Customer

    def by_external_id(self, external_id: str) -> Customer | None:
        return self.session.scalar(select(Customer).where(Customer.external_id == external_id))

    def by_external_ids(self, external_ids: Sequence[str]) -> dict[str, Customer]:
        found: dict[str, Customer] = {}
        for part in chunks(list(dict.fromkeys(external_ids))):
            for customer in self.session.scalars(select(Customer).where(Customer.external_id.in_(part))):
                found[customer.external_id] = customer
        return found

    def ids_by_external_ids(self, external_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(list(dict.fromkeys(external_ids))):
            statement = select(Customer.external_id, Customer.id).where(Customer.external_id.in_(part))
            found.update(dict(self.session.execute(statement).all()))
        return found

    def search(
        self,
        params: PageParams,
        *,
        query: str = "",
        sort: str = "name",
        restrict: Select[Any] | None = None,
        default_country: str = "RU",
        contact: str | None = None,
    ) -> Page[Customer]:
        """Customers matching a free-text query (name prefix, phone, e-mail, ids, card, receipt number),
        optionally only those of a contact data quality bucket (`contact`, see CONTACT_BUCKETS)."""
        statement = select(Customer)
        if query:
            statement = statement.where(self._matches(query, default_country))
        if restrict is not None:
            statement = statement.where(Customer.id.in_(restrict))
        if contact:
            statement = statement.where(contact_bucket(contact))
        statement = statement.order_by(*SORTS.get(sort, SORTS["name"]))
        return self.paginate(statement, params)

    def _matches(self, query: str, default_country: str = "RU") -> Any:
        from smartcomm.customers.contacts import normalize_email, normalize_phone

        text_query = query.strip()
        is_sqlite = self.session.get_bind().dialect.name == "sqlite"
        conditions = [
            Customer.external_id == text_query,
            Customer.card_number == text_query,
            Customer.email == normalize_email(text_query).value,
            _holds_receipt(text_query, is_sqlite),
            # Prefix ranges on lower(last_name) use the expression index on both databases.
            *last_name_starts(text_query, is_sqlite),
        ]
        phone = normalize_phone(text_query, default_country)
        if phone.valid:
            conditions.append(Customer.phone == phone.value)
        if text_query.isdigit():
            conditions.append(Customer.id == int(text_query))
        words = text_query.split()
        if 1 < len(words) <= len(NAME_PARTS):
            conditions.extend(full_name_matches(words, is_sqlite))
        return or_(*conditions)

    def refresh_aggregates(self, customer_ids: Iterable[int]) -> None:
        """Recompute the purchase aggregates of these customers from their receipts (set-based)."""
        ids = sorted(set(customer_ids))
        if not ids:
            return
        for part in chunks(ids):
            self.session.execute(_AGGREGATES_SQL, {"ids": list(part), "statuses": list(PURCHASE_STATUSES)})

    def push_tokens(self, customer_id: int) -> list[PushToken]:
        statement = select(PushToken).where(PushToken.customer_id == customer_id).order_by(PushToken.id)
        return list(self.session.scalars(statement))

    def push_token(self, token: str) -> PushToken | None:
        return self.session.scalar(select(PushToken).where(PushToken.token == token))

    def add_push_token(self, token: PushToken) -> None:
        self.session.add(token)
        self.session.flush()

    def subscriptions(self, customer_id: int) -> list[tuple[Subscription, MailingCategory]]:
        statement = (
            select(Subscription, MailingCategory)
            .join(MailingCategory, MailingCategory.id == Subscription.category_id)
            .where(Subscription.customer_id == customer_id)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    def set_subscription(
        self, customer_id: int, category_id: int, channel: str, subscribed: bool | None
    ) -> None:
        """Subscribe (True), unsubscribe (False) or remove from the category (None)."""
        key = and_(
            Subscription.customer_id == customer_id,
            Subscription.category_id == category_id,
            Subscription.channel == channel,
        )
        if subscribed is None:
            self.session.execute(delete(Subscription).where(key))
            return
        changed = self.session.execute(update(Subscription).where(key).values(subscribed=subscribed))
        if getattr(changed, "rowcount", 0) == 0:
            self.session.add(
                Subscription(
                    customer_id=customer_id, category_id=category_id, channel=channel, subscribed=subscribed
                )
            )
            self.session.flush()

    def count_all(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Customer)) or 0)


# One correlated row per customer through the (customer_id, purchased_at) index.
_AGGREGATES_SQL = text(
    """
    UPDATE customers SET
        (receipt_count, total_amount, average_receipt, first_purchase_at, last_purchase_at) = (
        SELECT count(*),
               coalesce(sum(r.total), 0),
               CASE WHEN count(*) > 0 THEN CAST(round(sum(r.total) * 1.0 / count(*)) AS BIGINT) ELSE 0 END,
               min(r.purchased_at),
               max(r.purchased_at)
        FROM receipts r
        WHERE r.customer_id = customers.id AND r.status IN :statuses
    )
    WHERE customers.id IN :ids
    """
).bindparams(bindparam("ids", expanding=True), bindparam("statuses", expanding=True))
