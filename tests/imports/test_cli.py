"""`smartcomm import …` on the command line: progress, a summary, the first errors, the exit code."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from smartcomm.cli.main import app
from smartcomm.models import AuditEntry, Classifier, Customer, Product
from tests.imports.conftest import WriteCsv, counts

runner = CliRunner()


def test_a_good_file_is_imported_and_summarised(session: Session, write_csv: WriteCsv) -> None:
    path = write_csv("external_id;first_name\nC-1;Ivan\nC-2;Olga\n")
    result = runner.invoke(app, ["import", "customers", str(path)], env={"COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    assert "Import done" in result.output and "Writing rows" in result.output and "rows/s" in result.output
    assert "Rows imported" in result.output
    assert sorted(session.scalars(select(Customer.external_id))) == ["C-1", "C-2"]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "import")).one()
    assert audit.actor_label == "command line"


def test_a_bad_file_exits_1_with_its_first_twenty_errors(session: Session, write_csv: WriteCsv) -> None:
    before = counts(session)
    path = write_csv("external_id,gender\n" + "".join(f"C-{n},x\n" for n in range(30)))
    result = runner.invoke(app, ["import", "customers", str(path)], env={"COLUMNS": "120"})

    assert result.exit_code == 1
    assert "Import rejected" in result.output and "30 row(s) have errors" in result.output
    assert "Errors (the first 20 of 30 rows)" in result.output
    assert "│ 21  │ gender │ expected m or f │" in result.output
    assert "│ 22  │" not in result.output
    assert counts(session) == before


def test_valid_only_imports_the_rest(session: Session, write_csv: WriteCsv) -> None:
    path = write_csv("external_id,gender\nC-1,m\nC-2,x\n")
    result = runner.invoke(app, ["import", "customers", str(path), "--valid-only"], env={"COLUMNS": "120"})

    assert result.exit_code == 0, result.output
    assert "expected m or f" in result.output
    assert list(session.scalars(select(Customer.external_id))) == ["C-1"]


def test_products_into_a_classifier(session: Session, write_csv: WriteCsv) -> None:
    web = Classifier(code="web", name="Online shop")
    session.add(web)
    session.commit()
    path = write_csv("sku,name\nA,Apples\n")
    result = runner.invoke(app, ["import", "products", str(path), "--classifier", "web"])

    assert result.exit_code == 0, result.output
    assert session.scalars(select(Product.classifier_id)).one() == web.id


def test_a_missing_file_is_a_usage_error(session: Session) -> None:
    result = runner.invoke(app, ["import", "receipts", "/nowhere/receipts.csv"])
    assert result.exit_code == 2
