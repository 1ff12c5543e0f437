"""Settings → Classifiers: versions of the product catalogue; the system one always exists."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import diff
from smartcomm.datasettings.common import (
    INTEGRATION_CODE,
    INTEGRATION_CODE_RULE,
    check_code,
    duplicate_code,
    record,
    snapshot,
)
from smartcomm.kit.errors import Conflict, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.repository import Repository
from smartcomm.models import Category, Classifier, Product

OBJECT_TYPE = "classifier"
AUDITED = ("code", "name", "for_tracker")
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ClassifierCreate(BaseModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Name
    for_tracker: bool = False


class ClassifierUpdate(BaseModel):
    name: Name
    for_tracker: bool = False


class ClassifierRepository(Repository[Classifier]):
    model = Classifier

    def with_product_counts(self) -> list[tuple[Classifier, int]]:
        counts = (
            select(Product.classifier_id, func.count().label("products"))
            .group_by(Product.classifier_id)
            .subquery()
        )
        statement = (
            select(Classifier, func.coalesce(counts.c.products, 0))
            .outerjoin(counts, counts.c.classifier_id == Classifier.id)
            .order_by(Classifier.is_system.desc(), Classifier.name, Classifier.id)
        )
        return [(classifier, int(products)) for classifier, products in self.session.execute(statement)]

    def by_code(self, code: str) -> Classifier | None:
        return self.session.scalar(select(Classifier).where(Classifier.code == code))

    def holds_catalogue(self, classifier_id: int) -> bool:
        """Whether any product or category belongs to the classifier."""
        for model in (Product, Category):
            statement = select(model.id).where(model.classifier_id == classifier_id).limit(1)
            if self.session.scalar(statement) is not None:
                return True
        return False


def _label(classifier: Classifier) -> str:
    return f"{classifier.name} ({classifier.code})"


class ClassifierService:
    def overview(self, session: Session) -> list[tuple[Classifier, int]]:
        """Every classifier with its number of products, the system one first."""
        return ClassifierRepository(session).with_product_counts()

    def get(self, session: Session, classifier_id: int) -> Classifier:
        classifier = ClassifierRepository(session).get(classifier_id)
        if classifier is None:
            raise NotFound("Classifier", classifier_id)
        return classifier

    def create(self, session: Session, actor: Actor, data: ClassifierCreate) -> Classifier:
        """Add a classifier; its code is what catalogue imports and tracker events send."""
        repository = ClassifierRepository(session)
        code = check_code(data.code, INTEGRATION_CODE, INTEGRATION_CODE_RULE)
        if repository.by_code(code) is not None:
            raise duplicate_code(lazy("A classifier with this code already exists"))
        classifier = repository.add(
            Classifier(code=code, name=data.name, for_tracker=data.for_tracker, is_system=False)
        )
        changes = diff({}, snapshot(classifier, AUDITED))
        record(session, actor, OBJECT_TYPE, classifier.id, "create", changes, _label(classifier))
        return classifier

    def update(
        self, session: Session, actor: Actor, classifier_id: int, data: ClassifierUpdate
    ) -> Classifier:
        """Rename a classifier or change whether the tracker uses it (codes never change)."""
        classifier = self.get(session, classifier_id)
        before = snapshot(classifier, AUDITED)
        classifier.name = data.name
        classifier.for_tracker = data.for_tracker
        session.flush()
        changes = diff(before, snapshot(classifier, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, classifier.id, "update", changes, _label(classifier))
        return classifier

    def delete(self, session: Session, actor: Actor, classifier_id: int) -> None:
        """Delete an empty, non-system classifier."""
        repository = ClassifierRepository(session)
        classifier = self.get(session, classifier_id)
        if classifier.is_system:
            raise Conflict("The system classifier cannot be deleted")
        if repository.holds_catalogue(classifier.id):
            raise Conflict("This classifier holds products or categories, so it cannot be deleted")
        changes = diff(snapshot(classifier, AUDITED), {})
        record(session, actor, OBJECT_TYPE, classifier.id, "delete", changes, _label(classifier))
        repository.delete(classifier)


classifier_service = ClassifierService()
