"""Settings → Classifiers: the system classifier and the delete guard."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartcomm.datasettings.classifiers import ClassifierCreate, ClassifierUpdate, classifier_service
from smartcomm.kit.errors import Conflict
from smartcomm.models import Classifier
from tests.datasettings.helpers import ACTOR, add_product, audit_rows, system_classifier


def test_overview_lists_the_system_classifier_first_with_product_counts(session: Session) -> None:
    online = classifier_service.create(session, ACTOR, ClassifierCreate(code="online", name="Online shop"))
    add_product(session, online.id)
    add_product(session, online.id)

    rows = [
        (c.code, c.is_system, c.for_tracker, products) for c, products in classifier_service.overview(session)
    ]

    assert rows == [("default", True, True, 0), ("online", False, False, 2)]


def test_the_system_classifier_keeps_its_code_and_cannot_be_deleted(session: Session) -> None:
    system = system_classifier(session)
    data = ClassifierUpdate.model_validate({"name": "Stores", "for_tracker": False, "code": "stores"})
    classifier_service.update(session, ACTOR, system.id, data)
    assert (system.code, system.name, system.for_tracker) == ("default", "Stores", False)

    with pytest.raises(Conflict, match="system classifier cannot be deleted"):
        classifier_service.delete(session, ACTOR, system.id)
    assert session.get(Classifier, system.id) is not None


def test_a_classifier_holding_products_cannot_be_deleted(session: Session) -> None:
    online = classifier_service.create(
        session, ACTOR, ClassifierCreate(code="online", name="Online", for_tracker=True)
    )
    empty = classifier_service.create(session, ACTOR, ClassifierCreate(code="app", name="App"))
    add_product(session, online.id)

    with pytest.raises(Conflict, match="holds products"):
        classifier_service.delete(session, ACTOR, online.id)
    classifier_service.delete(session, ACTOR, empty.id)

    assert session.get(Classifier, online.id) is not None and session.get(Classifier, empty.id) is None
    assert [(e.action, e.object_id) for e in audit_rows(session, "classifier")][-1] == (
        "delete",
        str(empty.id),
    )
