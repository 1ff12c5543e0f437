"""Settings → Fields: custom fields, protection of system fields, the two orders."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartcomm.datasettings.fields import FieldCreate, FieldUpdate, field_settings
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.models import Customer, FieldDefinition
from tests.datasettings.helpers import ACTOR, add_customer, audit_rows, count


def customer_field(session: Session, code: str) -> FieldDefinition:
    return next(f for f in field_settings.ordered(session, "customer") if f.code == code)


def create(session: Session, code: str = "favourite_store", **values: object) -> FieldDefinition:
    data = {"object": "customer", "code": code, "name": "Favourite store", "type": "string"} | values
    return field_settings.create(session, ACTOR, FieldCreate.model_validate(data))


def test_a_custom_field_goes_to_the_end_of_both_orders_and_is_audited(session: Session) -> None:
    system_count = len(field_settings.ordered(session, "customer"))
    field = create(session, group="scoring", show_in_profile=False)

    assert (field.profile_order, field.builder_order) == (system_count + 1, system_count + 1)
    assert field_settings.ordered(session, "customer", "builder")[-1].code == "favourite_store"
    entry = audit_rows(session, "field")[-1]
    assert (entry.action, entry.object_id, entry.actor_label) == ("create", str(field.id), ACTOR.label)
    assert entry.changes["code"] == [None, "favourite_store"]
    assert entry.changes["show_in_profile"] == [None, False]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("Favourite", "lowercase Latin letters"),
        ("1st_store", "starting with a letter"),
        ("favourite-store", "lowercase Latin letters"),
        ("x" * 65, "too long"),
    ],
)
def test_a_malformed_code_is_refused_naming_the_field(session: Session, code: str, message: str) -> None:
    before = count(session, FieldDefinition)
    with pytest.raises(InvalidInput) as refused:
        create(session, code=code)
    assert refused.value.errors[0].field == "code"
    assert message in refused.value.errors[0].message
    assert count(session, FieldDefinition) == before
    assert audit_rows(session, "field") == []


@pytest.mark.parametrize("code", ["email", "receipt_count", "custom"])
def test_system_codes_and_columns_are_reserved(session: Session, code: str) -> None:
    with pytest.raises(Conflict) as refused:
        create(session, code=code)
    assert (refused.value.errors[0].field, refused.value.errors[0].message) == (
        "code",
        "This code belongs to a system field",
    )


def test_a_code_is_unique_per_object_only(session: Session) -> None:
    create(session, code="level")
    with pytest.raises(Conflict) as refused:
        create(session, code="level")
    assert refused.value.errors[0].message == "A field with this code already exists"
    product_field = create(session, code="level", object="product")
    assert product_field.object == "product"


def test_system_fields_can_be_renamed_but_not_retyped_or_deleted(session: Session) -> None:
    email = customer_field(session, "email")
    field_settings.update(session, ACTOR, email.id, FieldUpdate(name="E-mail address", group="contacts"))
    assert email.name == "E-mail address"

    with pytest.raises(Conflict) as retyped:
        field_settings.update(session, ACTOR, email.id, FieldUpdate(name="E-mail", type="integer"))
    assert retyped.value.errors[0].field == "type"
    with pytest.raises(Conflict, match="System fields cannot be deleted"):
        field_settings.delete(session, ACTOR, email.id)
    assert session.get(FieldDefinition, email.id) is not None


def test_a_custom_field_changes_type_only_while_no_record_holds_a_value(session: Session) -> None:
    field = create(session, code="level", type="string")
    field_settings.update(session, ACTOR, field.id, FieldUpdate(name="Level", type="integer"))
    assert field.type == "integer"

    add_customer(session, {"level": 3})
    with pytest.raises(Conflict) as refused:
        field_settings.update(session, ACTOR, field.id, FieldUpdate(name="Level", type="date"))
    assert refused.value.errors[0].field == "type"
    assert "hold values" in refused.value.errors[0].message


def test_deleting_a_custom_field_removes_its_values_from_records(session: Session) -> None:
    field = create(session, code="level", type="integer")
    holder = add_customer(session, {"level": 3, "pet": "cat"})
    other = add_customer(session, {"pet": "dog"})

    field_settings.delete(session, ACTOR, field.id)

    session.expire_all()
    assert session.get(FieldDefinition, field.id) is None
    assert session.get(Customer, holder.id).custom == {"pet": "cat"}  # type: ignore[union-attr]
    assert session.get(Customer, other.id).custom == {"pet": "dog"}  # type: ignore[union-attr]
    entry = audit_rows(session, "field")[-1]
    assert (entry.action, entry.changes["stored_values"], entry.changes["code"]) == (
        "delete",
        [1, 0],
        ["level", None],
    )


def test_reorder_rewrites_one_order_and_keeps_the_other(session: Session) -> None:
    profile = field_settings.ordered(session, "category", "profile")
    assert [f.code for f in profile] == ["code", "name", "parent"]
    ids = [profile[2].id, profile[0].id, profile[1].id]

    field_settings.reorder(session, ACTOR, "category", "profile", ids)

    assert [f.code for f in field_settings.ordered(session, "category", "profile")] == [
        "parent",
        "code",
        "name",
    ]
    assert [f.profile_order for f in field_settings.ordered(session, "category", "profile")] == [1, 2, 3]
    assert [f.code for f in field_settings.ordered(session, "category", "builder")] == [
        "code",
        "name",
        "parent",
    ]
    entry = audit_rows(session, "field")[-1]
    assert (entry.action, entry.object_id) == ("reorder", "category")
    assert entry.changes == {"profile_order": [["code", "name", "parent"], ["parent", "code", "name"]]}


@pytest.mark.parametrize("shape", ["missing", "duplicate", "foreign"])
def test_reorder_refuses_a_list_that_is_not_the_whole_list(session: Session, shape: str) -> None:
    ids = [f.id for f in field_settings.ordered(session, "category", "builder")]
    other = field_settings.ordered(session, "product")[0].id
    posted = {"missing": ids[:-1], "duplicate": [*ids[:-1], ids[0]], "foreign": [*ids[:-1], other]}[shape]

    with pytest.raises(InvalidInput) as refused:
        field_settings.reorder(session, ACTOR, "category", "builder", posted)

    assert refused.value.errors[0].field == "ids"
    assert [f.id for f in field_settings.ordered(session, "category", "builder")] == ids
    assert audit_rows(session, "field") == []
