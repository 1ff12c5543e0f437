"""Rules for web events: references resolved in a few queries, the product or category snapshotted,
sessions and visitors kept current, container changes applied, and the identification merge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.containers.repository import ContainerRepository
from smartcomm.containers.service import ItemChange, container_change, container_service
from smartcomm.events.repository import (
    CategoryRef,
    ClassifierRef,
    EventRepository,
    EventSourceRepository,
    ProductRef,
    SessionRepository,
    VisitorRepository,
    WebEventRepository,
    customer_ids,
)
from smartcomm.events.schemas import EventBatchOut, WebEventIn, WebEventOut, WebSessionOut
from smartcomm.events.service import customer_reference_error, source_error
from smartcomm.events.sessions import SessionClaim, SessionTracker
from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.kit.outbox import publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models.events import ANONYMOUS_HISTORY_DAYS

# The field each kind cannot do without.
REQUIRED_FIELDS = {"product_view": "sku", "category_view": "category", "section_view": "section"}


def product_snapshot(product: ProductRef) -> dict[str, Any]:
    category = None
    if product.category_code is not None:
        category = {"code": product.category_code, "name": product.category_name}
    price = None if product.price is None else str(product.price)
    return {"sku": product.sku, "name": product.name, "price": price, "category": category}


@dataclass(slots=True)
class ResolvedWebEvent:
    item: WebEventIn
    occurred_at: datetime
    customer_id: int | None
    source_id: int
    product: ProductRef | None
    category: CategoryRef | None
    container_id: int | None

    @property
    def visitor_id(self) -> str | None:
        return self.item.visitor_id

    def claim(self) -> SessionClaim:
        return SessionClaim(
            kind=self.item.kind,
            occurred_at=self.occurred_at,
            visitor_id=self.visitor_id,
            customer_id=self.customer_id,
            source_id=self.source_id,
            key=self.item.session,
        )

    def snapshot(self) -> dict[str, Any]:
        """The product or category as it is right now, kept with the event for later rendering."""
        if self.product is not None:
            return product_snapshot(self.product)
        if self.item.sku is not None:
            return {"sku": self.item.sku}  # not in the catalogue (yet)
        if self.category is not None:
            return {"code": self.category.code, "name": self.category.name}
        return {"code": self.item.category} if self.item.category is not None else {}

    def row(self, session_id: int | None) -> dict[str, Any]:
        item = self.item
        in_container = item.kind == "container_change"
        category_id = (
            self.category.id if self.category else (self.product.category_id if self.product else None)
        )
        context = item.context
        if item.price is not None and "price" not in context:
            context = {**context, "price": str(item.price)}
        return {
            "kind": item.kind,
            "occurred_at": self.occurred_at,
            "visitor_id": item.visitor_id,
            "customer_id": self.customer_id,
            "session_id": session_id,
            "source_id": self.source_id,
            "product_id": self.product.id if self.product else None,
            "category_id": category_id,
            "section": item.section,
            "container_code": item.container if in_container else None,
            "container_action": item.container_action if in_container else None,
            "quantity": None if item.quantity is None else float(item.quantity),
            "url": item.url,
            "snapshot": self.snapshot(),
            "context": context,
            "message_id": item.message_id,
        }


class WebEventResolver:
    """Resolves the references of one batch in a few queries; every problem names its field."""

    def __init__(self, session: Session, items: Sequence[WebEventIn], path: str | Sequence[str]) -> None:
        self.items = items
        # Where each item sits in the request, for error messages.
        self.paths = [f"{path}[{i}]" for i in range(len(items))] if isinstance(path, str) else list(path)
        self.errors: list[FieldError] = []
        self.repository = WebEventRepository(session)
        self.customers = customer_ids(
            session,
            [item.customer_external_id for item in items if item.customer_external_id is not None],
            [item.customer_id for item in items if item.customer_id is not None],
        )
        self.sources = EventSourceRepository(session).with_codes(
            [item.source for item in items if item.source]
        )
        self.system_source = next(source for source in self.sources.values() if source.is_system)
        self.containers = ContainerRepository(session).ids_by_code()
        self.classifiers = {classifier.code: classifier for classifier in self.repository.classifiers()}
        self.main_classifier = next(c for c in self.classifiers.values() if c.is_system)
        self.visitors = VisitorRepository(session).customers_of([i.visitor_id for i in items if i.visitor_id])

    def resolve(self) -> list[ResolvedWebEvent]:
        classifier_ids = [self._classifier_id(index, item) for index, item in enumerate(self.items)]
        products, categories = self._catalogue(classifier_ids)
        now = utcnow()
        resolved = [
            self._resolve_one(
                index,
                item,
                now,
                products.get((cid, item.sku or "")),
                categories.get((cid, item.category or "")),
            )
            for index, (item, cid) in enumerate(zip(self.items, classifier_ids, strict=True))
        ]
        if self.errors:
            message = f"{len(self.errors)} problem(s) in the web events; nothing was written"
            raise InvalidInput(message, self.errors)
        return resolved

    def _catalogue(
        self, classifier_ids: list[int]
    ) -> tuple[dict[tuple[int, str], ProductRef], dict[tuple[int, str], CategoryRef]]:
        """The products and categories the batch names, by (classifier, SKU or code)."""
        products: dict[tuple[int, str], ProductRef] = {}
        categories: dict[tuple[int, str], CategoryRef] = {}
        for classifier_id in set(classifier_ids):
            mine = [
                item for item, cid in zip(self.items, classifier_ids, strict=True) if cid == classifier_id
            ]
            found = self.repository.products(classifier_id, [item.sku for item in mine if item.sku])
            products.update({(classifier_id, sku): product for sku, product in found.items()})
            named = self.repository.categories(
                classifier_id, [item.category for item in mine if item.category]
            )
            categories.update({(classifier_id, code): category for code, category in named.items()})
        return products, categories

    def _resolve_one(
        self,
        index: int,
        item: WebEventIn,
        now: datetime,
        product: ProductRef | None,
        category: CategoryRef | None,
    ) -> ResolvedWebEvent:
        where = self.paths[index]
        self._check_required(item, where)
        return ResolvedWebEvent(
            item=item,
            occurred_at=item.occurred_at or now,
            customer_id=self._customer_id(item, where),
            source_id=self._source_id(item, where),
            product=product,
            category=category,
            container_id=self._container_id(item, where),
        )

    def _customer_id(self, item: WebEventIn, where: str) -> int | None:
        if item.customer_external_id is not None or item.customer_id is not None:
            found = self.customers.get(item.customer_external_id or f"#{item.customer_id}")
            if found is None:
                self.errors.append(customer_reference_error(where, item.customer_external_id))
            return found
        if item.visitor_id is None:
            self.errors.append(
                FieldError(f"{where}.visitor_id", "give visitor_id or the customer", "missing")
            )
            return None
        # A visitor who identified before keeps bringing its behaviour to that customer.
        return self.visitors.get(item.visitor_id)

    def _source_id(self, item: WebEventIn, where: str) -> int:
        if item.source is None:
            return self.system_source.id
        source = self.sources.get(item.source)
        problem = source_error(where, item.source, source)
        if problem is not None:
            self.errors.append(problem)
        return source.id if source is not None else self.system_source.id

    def _check_required(self, item: WebEventIn, where: str) -> None:
        field = REQUIRED_FIELDS.get(item.kind)
        if field is not None and getattr(item, field) is None:
            self.errors.append(FieldError(f"{where}.{field}", f"required for a {item.kind} event", "missing"))
        if item.kind == "container_change" and item.container_action != "clear" and item.sku is None:
            self.errors.append(FieldError(f"{where}.sku", "required to change a container", "missing"))

    def _container_id(self, item: WebEventIn, where: str) -> int | None:
        if item.kind != "container_change":
            return None
        if item.container is None:
            self.errors.append(
                FieldError(f"{where}.container", "required for a container_change event", "missing")
            )
            return None
        found = self.containers.get(item.container)
        if found is None:
            self.errors.append(
                FieldError(f"{where}.container", f"no container with the code {item.container!r}")
            )
        return found

    def _classifier_id(self, index: int, item: WebEventIn) -> int:
        """The catalogue the product or category comes from: the one named (when it serves the tracker),
        else a tracker catalogue with the source's code, else the main catalogue."""
        main = self.main_classifier
        if item.classifier:
            named = self.classifiers.get(item.classifier)
            if named is None:
                where = f"{self.paths[index]}.classifier"
                self.errors.append(
                    FieldError(where, f"no classifier with the code {item.classifier!r}", "unknown")
                )
            return self._for_tracker(named, main)
        return self._for_tracker(self.classifiers.get(item.source or self.system_source.code), main)

    @staticmethod
    def _for_tracker(classifier: ClassifierRef | None, main: ClassifierRef) -> int:
        return classifier.id if classifier is not None and classifier.for_tracker else main.id


class WebEventService:
    def record(
        self, session: Session, actor: Actor, items: Sequence[WebEventIn], *, path: str = "web_events"
    ) -> EventBatchOut:
        """Store up to 1,000 web events with sessions, snapshots, container changes and identification."""
        accepted = self.write(session, items, path=path)
        duplicates = len(items) - accepted
        audit_service.record(
            session,
            actor,
            object_type="event_batch",
            object_id=f"{len(items)} web events",
            action="create",
            changes={"accepted": [None, accepted], "duplicates": [None, duplicates]},
        )
        return EventBatchOut(accepted=accepted, duplicates=duplicates)

    def write(self, session: Session, items: Sequence[WebEventIn], *, path: str | Sequence[str]) -> int:
        """Validate and store web events (the caller audits); returns how many were new.

        `path` names the items in error messages: a list name (items become `path[i]`) or one path per item.
        """
        resolver = WebEventResolver(session, items, path)
        fresh = self._unseen(session, resolver.resolve())
        tracker = SessionTracker(session, [event.claim() for event in fresh])
        states = [tracker.assign(event.claim()) for event in fresh]
        tracker.save()
        self._save_visitors(session, fresh, resolver.visitors)
        rows = [event.row(state.id) for event, state in zip(fresh, states, strict=True)]
        ids = WebEventRepository(session).insert(rows)
        self._apply_containers(session, fresh)
        _publish_occurred(session, rows, ids)
        for event in fresh:
            if event.item.kind == "login" and event.visitor_id and event.customer_id is not None:
                self.identify(session, event.visitor_id, event.customer_id, event.occurred_at)
        return len(ids)

    def identify(self, session: Session, visitor_id: str, customer_id: int, at: datetime) -> None:
        """Attach the visitor's anonymous behaviour of the last 60 days to the customer (set-based) and
        remember who the visitor is, so that its later behaviour goes to the customer too."""
        since = at - timedelta(days=ANONYMOUS_HISTORY_DAYS)
        visitors = VisitorRepository(session)
        visitors.add(
            [
                {
                    "id": visitor_id,
                    "customer_id": customer_id,
                    "first_seen_at": at,
                    "last_seen_at": at,
                    "identified_at": at,
                }
            ]
        )
        visitors.identify(visitor_id, customer_id, at)
        WebEventRepository(session).attach_visitor(visitor_id, customer_id, since)
        SessionRepository(session).attach_visitor(visitor_id, customer_id, since)
        EventRepository(session).attach_visitor(visitor_id, customer_id, since)
        publish(session, "customer.identified", customer_id=customer_id, payload={"visitor_id": visitor_id})

    def for_customer(self, session: Session, customer_id: int, params: PageParams) -> Page[WebEventOut]:
        """A customer's web events, newest first."""
        page = WebEventRepository(session).for_customer(customer_id, params)
        items = [WebEventOut.model_validate(event) for event in page.items]
        return Page(items=items, total=page.total, page=page.page, size=page.size)

    def sessions_of(self, session: Session, customer_id: int, params: PageParams) -> Page[WebSessionOut]:
        """A customer's sessions on sites and apps, newest first."""
        page = SessionRepository(session).for_customer(customer_id, params)
        items = [WebSessionOut.model_validate(state) for state in page.items]
        return Page(items=items, total=page.total, page=page.page, size=page.size)

    @staticmethod
    def _unseen(session: Session, resolved: list[ResolvedWebEvent]) -> list[ResolvedWebEvent]:
        """Without events whose message_id is stored already or repeated in the batch."""
        message_ids = [event.item.message_id for event in resolved if event.item.message_id]
        seen = WebEventRepository(session).stored_message_ids(message_ids) if message_ids else set()
        fresh: list[ResolvedWebEvent] = []
        for event in resolved:
            message_id = event.item.message_id
            if message_id is None:
                fresh.append(event)
            elif message_id not in seen:
                seen.add(message_id)
                fresh.append(event)
        return fresh

    @staticmethod
    def _save_visitors(
        session: Session, events: Sequence[ResolvedWebEvent], known: dict[str, int | None]
    ) -> None:
        span: dict[str, tuple[datetime, datetime]] = {}
        for event in events:
            if event.visitor_id:
                first, last = span.get(event.visitor_id, (event.occurred_at, event.occurred_at))
                span[event.visitor_id] = (min(first, event.occurred_at), max(last, event.occurred_at))
        repository = VisitorRepository(session)
        repository.add(
            [
                {
                    "id": visitor,
                    "customer_id": None,
                    "first_seen_at": first,
                    "last_seen_at": last,
                    "identified_at": None,
                }
                for visitor, (first, last) in span.items()
                if visitor not in known
            ]
        )
        repository.seen(
            [{"v_id": visitor, "v_seen": last} for visitor, (_, last) in span.items() if visitor in known]
        )

    @staticmethod
    def _apply_containers(session: Session, events: Sequence[ResolvedWebEvent]) -> None:
        """Apply the container changes of customers' events; one `container.changed` for all of them."""
        changed: list[dict[str, Any]] = []
        for event in events:
            item = event.item
            if event.container_id is None or event.customer_id is None:
                continue  # an anonymous visitor's list is not kept; its events are
            if item.container_action == "clear":
                changes = []
            elif event.product is not None:
                changes = [ItemChange(event.product.id, item.quantity, item.price)]
            else:
                continue  # a product missing from the catalogue cannot be listed
            container_service.apply(
                session,
                event.customer_id,
                event.container_id,
                item.container_action,
                changes,
                event.occurred_at,
            )
            entry = container_change(
                event.customer_id, str(item.container), item.container_action, changes, event.occurred_at
            )
            changed.append(entry)
        if changed:
            customer_ids = [entry["customer_id"] for entry in changed]
            publish(session, "container.changed", customer_ids=customer_ids, payload={"changes": changed})


def _publish_occurred(session: Session, rows: Sequence[dict[str, Any]], ids: list[int]) -> None:
    """One `web_event.occurred` for a batch with customers' events (anonymous ones reach subscribers once
    their visitor is identified: `customer.identified`): the ids of the web events stored (a subscriber
    reads them by id), their kinds and customers."""
    customers = [row["customer_id"] for row in rows if row["customer_id"] is not None]
    if ids and customers:
        payload = {"web_event_ids": ids, "kinds": sorted({row["kind"] for row in rows})}
        publish(session, "web_event.occurred", customer_ids=customers, payload=payload)


web_event_service = WebEventService()
