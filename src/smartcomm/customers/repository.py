"""SQL of customers, push tokens and subscriptions."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, func, or_, select, text, update

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
    ) -> Page[Customer]:
        """Customers matching a free-text query (name prefix, phone, e-mail, ids, card, receipt number)."""
        statement = select(Customer)
        if query:
            statement = statement.where(self._matches(query, default_country))
        if restrict is not None:
            statement = statement.where(Customer.id.in_(restrict))
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
            Customer.id.in_(select(Receipt.customer_id).where(Receipt.number == text_query)),
            # Prefix ranges on lower(last_name) use the expression index on both databases.
            *(
                and_(func.lower(Customer.last_name) >= form, func.lower(Customer.last_name) < form + "\uffff")
                for form in lowered_forms(text_query, is_sqlite)
            ),
        ]
        phone = normalize_phone(text_query, default_country)
        if phone.valid:
            conditions.append(Customer.phone == phone.value)
        if text_query.isdigit():
            conditions.append(Customer.id == int(text_query))
        words = text_query.split()
        if len(words) > 1:
            conditions.append(and_(*(self._names_word(word, is_sqlite) for word in words)))
        return or_(*conditions)

    @staticmethod
    def _names_word(word: str, is_sqlite: bool) -> Any:
        forms = lowered_forms(word, is_sqlite)
        return or_(func.lower(Customer.first_name).in_(forms), func.lower(Customer.last_name).in_(forms))

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
