"""Importing products: by SKU within a classifier, categories created and moved on the way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.imports.runner import import_file, run_file
from smartcomm.imports.schemas import ImportOptions
from smartcomm.models import Category, Classifier, DomainEvent, Product, ReceiptLine
from tests.imports.conftest import WriteCsv, add_customers, add_field, counts

HEADER = "sku,name,price,stock,category,category_name,parent_category,url,is_active,custom.brand"


def tree(session: Session, classifier_id: int = 1) -> dict[str, tuple[str, str | None, str]]:
    """code -> (name, parent code, path with codes instead of ids)."""
    session.expire_all()
    found = {
        c.id: c for c in session.scalars(select(Category).where(Category.classifier_id == classifier_id))
    }
    by_id = {id_: c.code for id_, c in found.items()}
    return {
        c.code: (c.name, by_id.get(c.parent_id) if c.parent_id else None,
                 "/" + "".join(f"{by_id[int(part)]}/" for part in c.path.strip("/").split("/")))
        for c in found.values()
    }  # fmt: skip


def products(session: Session, classifier_id: int = 1) -> dict[str, tuple[Any, ...]]:
    session.expire_all()
    codes = dict(session.execute(select(Category.id, Category.code)).all())
    statement = select(Product).where(Product.classifier_id == classifier_id)
    return {
        p.sku: (p.name, p.price, p.stock, codes.get(p.category_id), p.url, p.is_active, p.custom)
        for p in session.scalars(statement)
    }


def test_products_and_their_categories_are_created(session: Session, write_csv: WriteCsv) -> None:
    add_field(session, "product", "brand", "string")
    text = (
        f"{HEADER}\n"
        'T-1,Green tea,"149,90",12.5,tea,Tea,drinks,https://shop/t1,Y,Leafy\n'
        "T-2,Black tea,99,,tea,,,,N,\n"
        "C-1,Cookies,45.5,-3,sweets,Sweets,,,,\n"
        "X-1,Gift card,,,,,,,,\n"
    )
    summary = import_file("products", write_csv(text))

    assert (summary.status, summary.imported_rows) == ("done", 4)
    assert products(session) == {
        "T-1": (
            "Green tea",
            Decimal("149.90"),
            Decimal("12.500"),
            "tea",
            "https://shop/t1",
            True,
            {"brand": "Leafy"},
        ),
        "T-2": ("Black tea", Decimal("99.00"), None, "tea", None, False, {}),
        "C-1": ("Cookies", Decimal("45.50"), Decimal("-3.000"), "sweets", None, True, {}),
        "X-1": ("Gift card", None, None, None, None, True, {}),
    }
    assert tree(session) == {
        "drinks": ("drinks", None, "/drinks/"),
        "tea": ("Tea", "drinks", "/drinks/tea/"),
        "sweets": ("Sweets", None, "/sweets/"),
    }


def test_a_second_file_updates_products_and_moves_categories(session: Session, write_csv: WriteCsv) -> None:
    first = "sku,name,price,category,category_name,parent_category\nT-1,Green tea,10,tea,Tea,drinks\n"
    first += "C-1,Cookies,5,sweets\n"
    assert import_file("products", write_csv(first)).status == "done"
    moved = (
        "sku,name,category,category_name,parent_category\n"
        "T-1,Green tea 100 g,tea,,food\n"
        "D-1,Drinks box,drinks,Drinks,food\n"
    )

    summary = import_file("products", write_csv(moved))

    assert summary.status == "done"
    assert tree(session) == {
        "food": ("food", None, "/food/"),
        "drinks": ("Drinks", "food", "/food/drinks/"),
        "tea": ("Tea", "food", "/food/tea/"),
        "sweets": ("sweets", None, "/sweets/"),
    }
    stored = products(session)
    # Columns absent from the second file (price, url, ...) keep their values.
    assert stored["T-1"][:4] == ("Green tea 100 g", Decimal("10.00"), None, "tea")
    assert stored["C-1"][3] == "sweets" and len(stored) == 3


def test_parent_loops_reject_the_file_and_nothing_is_written(session: Session, write_csv: WriteCsv) -> None:
    import_file("products", write_csv("sku,name,category,parent_category\nA,Apples,fruit,food\n"))
    before = counts(session)

    summary = import_file("products", write_csv("sku,name,category,parent_category\nB,Bread,food,fruit\n"))

    assert summary.status == "rejected"
    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (2, "parent_category", "this parent would make the category its own ancestor")
    ]
    assert counts(session) == before and tree(session)["food"] == ("food", None, "/food/")


def test_products_go_to_the_chosen_classifier(session: Session, write_csv: WriteCsv) -> None:
    web = Classifier(code="web", name="Online shop")
    session.add(web)
    session.commit()
    path = write_csv("sku,name,category\nA,Apples,fruit\n")

    summary = run_file("products", path, ImportOptions(classifier="web"))
    unknown = run_file("products", path, ImportOptions(classifier="nope"))

    assert summary.status == "done"
    assert products(session, web.id) == {"A": ("Apples", None, None, "fruit", None, True, {})}
    assert products(session) == {} and tree(session, web.id) == {"fruit": ("fruit", None, "/fruit/")}
    assert [(e.row, e.column, e.message) for e in unknown.errors] == [
        (1, "classifier", "no classifier with code 'nope'")
    ]


def test_receipt_lines_loaded_before_their_product_get_it(session: Session, write_csv: WriteCsv) -> None:
    add_customers(session, "C-1")
    receipts = "number,store,customer_external_id,purchased_at,sku,price\nR1,S1,C-1,2026-01-10,A,10\n"
    import_file("receipts", write_csv(receipts))

    import_file("products", write_csv("sku,name,category\nA,Apples,fruit\n"))

    line = session.scalars(select(ReceiptLine)).one()
    session.refresh(line)
    apples = session.scalars(select(Product).where(Product.sku == "A")).one()
    assert (line.product_id, line.category_id) == (apples.id, apples.category_id)


def test_required_values_and_numbers_are_checked(session: Session, write_csv: WriteCsv) -> None:
    text = "sku,name,price,is_active,category_name\n,Nameless,1.999,maybe,\nB,,abc,Y,Orphan\n"
    summary = import_file("products", write_csv(text))

    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (2, "is_active", "expected Y or N"),
        (2, "price", "at most 2 decimal places"),
        (2, "sku", "a value is required"),
        (3, "category_name", "needs a category code in the category column"),
        (3, "name", "a value is required"),
        (3, "price", "expected a number"),
    ]


def test_a_file_that_changes_prices_or_stock_announces_it_for_campaign_triggers(
    session: Session, write_csv: WriteCsv
) -> None:
    first = "sku,name,price,stock\nT-1,Green tea,10,5\nC-1,Cookies,5,7\n"
    assert import_file("products", write_csv(first)).status == "done"
    before = session.scalar(select(func.max(DomainEvent.id))) or 0

    changed = "sku,name,price,stock\nT-1,Green tea,8.50,5\nC-1,Cookies,5,7\nN-1,New,3,1\n"
    assert import_file("products", write_csv(changed)).status == "done"

    found = session.scalars(
        select(DomainEvent).where(DomainEvent.id > before, DomainEvent.kind == "product.changed")
    ).all()
    ids = dict(session.execute(select(Product.sku, Product.id)).all())
    assert [event.payload for event in found] == [
        {
            "product_ids": [ids["T-1"]],
            "fields": ["price"],
            "changes": [{"product_id": ids["T-1"], "price": ["10.00", "8.50"]}],
        }
    ]  # new products and unchanged ones announce nothing
