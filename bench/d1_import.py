"""D1: bulk receipt import, CSV → database with lines and customer aggregates, in CSV rows per second.

The file has one row per receipt line (the format of `docs/imports.md`) for customers, stores and
products of the demo base. Each repetition imports it into a fresh copy of the base with
`smartcomm.imports.runner.import_file`, timed around that one call. The reference, measured on the
same copy right before, is the floor any importer has to pay: read the same CSV, group the lines
into receipts and write the same rows with plain `executemany` (SQLite) or `COPY` (PostgreSQL) into
bare tables without indexes, lookups or aggregates.
"""

from __future__ import annotations

import csv
import random
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.databases import BaseDatabase
from bench.results import Figure, Target
from bench.run import BenchError, Run
from smartcomm.kit.db import Database, create_db_engine, set_database

HEADER = (
    "number",
    "store",
    "customer_external_id",
    "purchased_at",
    "status",
    "total",
    "discount",
    "bonus_earned",
    "bonus_spent",
    "sku",
    "quantity",
    "price",
    "amount",
    "line_discount",
)
TARGETS = {
    "sqlite": Target(300_000, True, "≥ 300 k rows/s"),
    "postgres": Target(250_000, True, "≥ 250 k rows/s"),
}
LINES = (1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6)  # about three lines per receipt
MOSCOW = timezone(timedelta(hours=3))
REFERENCE_TABLES = {
    "bench_ref_receipts": "number varchar(64), store varchar(64), customer_external_id varchar(64), "
    "purchased_at {moment}, status varchar(16), total bigint, discount bigint, "
    "bonus_earned bigint, bonus_spent bigint",
    "bench_ref_lines": "number varchar(64), store varchar(64), position integer, sku varchar(64), "
    "quantity bigint, price bigint, amount bigint, discount bigint",
}


def measure(run: Run, backend: str) -> Figure:
    figure = Figure(
        "D1",
        "bulk receipt import",
        backend,
        "rows/s",
        TARGETS[backend],
        reference_title="raw executemany" if backend == "sqlite" else "raw COPY",
    )
    try:
        from smartcomm.imports.runner import import_file  # noqa: F401 (present in this version?)
    except ImportError:
        figure.error = "the import engine is not available"
        return figure
    base = run.databases.base(backend, run.tier, run.seed)
    path, rows = receipts_file(run, base)
    figure.details = {
        "rows": rows,
        "receipts": run.tier.import_receipts,
        "engine_seconds": [],
        "reference_seconds": [],
    }
    for _ in range(run.repeat):
        url = run.databases.clone(base)
        try:
            reference = _reference(url, path, backend)
            seconds = _engine(url, path, rows, run.tier.import_receipts)
        finally:
            run.databases.drop(url)
        figure.reference.append(rows / reference)
        figure.values.append(rows / seconds)
        figure.details["reference_seconds"].append(round(reference, 3))
        figure.details["engine_seconds"].append(round(seconds, 3))
        run.console.print(
            f"D1 {backend}: {rows / seconds:,.0f} rows/s (reference {rows / reference:,.0f} rows/s)"
        )
    return figure


def receipts_file(run: Run, base: BaseDatabase) -> tuple[Path, int]:
    """The import file of this tier (written once per run): its path and number of rows."""
    path = run.workdir / f"receipts-{run.tier.name}-{run.seed}.csv"
    if path not in run.files:
        run.files[path] = write_receipts_csv(base.url, path, run.tier.import_receipts, run.seed)
    return path, run.files[path]


def write_receipts_csv(url: str, path: Path, receipts: int, seed: int) -> int:
    """Receipts of the last 30 days for customers, stores and products of the base; returns the rows."""
    customers, stores, products = _base_facts(url)
    rng = random.Random(f"{seed}:import")
    now = datetime.now(UTC).replace(microsecond=0)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for number in range(1, receipts + 1):
            moment = (now - timedelta(seconds=rng.randrange(30 * 86400))).astimezone(MOSCOW)
            lines = [
                (rng.choice(products), rng.choice((1000, 1000, 1000, 2000, 3000)))
                for _ in range(rng.choice(LINES))
            ]
            rows += _write_receipt(
                writer,
                rng,
                f"IMP{seed}-{number:08d}",
                rng.choice(stores),
                rng.choice(customers),
                moment.isoformat(timespec="seconds"),
                lines,
            )
    return rows


def _write_receipt(
    writer: Any,
    rng: random.Random,
    number: str,
    store: str,
    customer: str,
    moment: str,
    lines: list[tuple[tuple[str, int], int]],
) -> int:
    roll = rng.random()
    status = "returned" if roll < 0.03 else "cancelled" if roll < 0.04 else "paid"
    priced = []
    for (sku, price), quantity in lines:
        gross = price * quantity // 1000
        off = gross // 10 if rng.random() < 0.15 else 0
        priced.append((sku, quantity, price, gross - off, off))
    total, discount = sum(p[3] for p in priced), sum(p[4] for p in priced)
    head = [
        number,
        store,
        customer,
        moment,
        status,
        _money(total),
        _money(discount),
        _money(total * 5 // 100 // 100 * 100 if status == "paid" else 0),
        "0.00",
    ]
    for sku, quantity, price, amount, off in priced:
        writer.writerow(
            [
                *head,
                sku,
                f"{quantity // 1000}.{quantity % 1000:03d}",
                _money(price),
                _money(amount),
                _money(off),
            ]
        )
    return len(priced)


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _base_facts(url: str) -> tuple[list[str], list[str], list[tuple[str, int]]]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            customers = list(connection.scalars(text("SELECT external_id FROM customers ORDER BY id")))
            stores = list(connection.scalars(text("SELECT code FROM stores ORDER BY id")))
            products = [
                (str(sku), int(price))
                for sku, price in connection.execute(
                    text("SELECT sku, price FROM products WHERE price IS NOT NULL ORDER BY id")
                )
            ]
    finally:
        engine.dispose()
    return customers, stores, products


def _engine(url: str, path: Path, rows: int, receipts: int) -> float:
    """Seconds of one `import_file` call; the result is checked against the file and the database."""
    from smartcomm.imports.runner import import_file

    database = Database(url)
    previous = set_database(database)
    try:
        started = time.perf_counter()
        summary = import_file("receipts", path)
        seconds = time.perf_counter() - started
        if summary.status != "done" or summary.imported_rows != rows:
            raise BenchError(f"import ended {summary.status} with {summary.imported_rows} of {rows} rows")
        with database.engine.connect() as connection:
            stored = connection.scalar(text("SELECT count(*) FROM receipts WHERE number LIKE 'IMP%'"))
        if stored != receipts:
            raise BenchError(f"{stored} receipts stored, {receipts} expected")
    finally:
        set_database(previous)
        database.dispose()
    return seconds


def _reference(url: str, path: Path, backend: str) -> float:
    """Seconds to read the file, group it and write the same rows into bare tables, with a commit."""
    engine = create_db_engine(url)
    moment = "varchar(40)" if backend == "sqlite" else "timestamptz"
    with engine.begin() as connection:
        for name, columns in REFERENCE_TABLES.items():
            connection.exec_driver_sql(f"CREATE TABLE {name} ({columns.format(moment=moment)})")
    pooled = engine.raw_connection()
    try:
        started = time.perf_counter()
        receipts, lines = _read_grouped(path)
        _write_raw(pooled.driver_connection, backend, receipts, lines)
        seconds = time.perf_counter() - started
    finally:
        pooled.close()
        engine.dispose()
    return seconds


def _read_grouped(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    receipts: dict[tuple[str, str], tuple[Any, ...]] = {}
    positions: dict[tuple[str, str], int] = {}
    lines: list[tuple[Any, ...]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        for row in reader:
            key = (row[1], row[0])
            if key not in receipts:
                receipts[key] = (row[0], row[1], row[2], row[3], row[4], *(_minor(cell) for cell in row[5:9]))
            position = positions[key] = positions.get(key, 0) + 1
            lines.append((row[0], row[1], position, row[9], *(_minor(cell) for cell in row[10:14])))
    return list(receipts.values()), lines


def _minor(cell: str) -> int:
    return int(cell.replace(".", ""))


def _write_raw(raw: Any, backend: str, receipts: list[tuple[Any, ...]], lines: list[tuple[Any, ...]]) -> None:
    if backend == "sqlite":
        raw.execute("BEGIN")
        raw.executemany(f"INSERT INTO bench_ref_receipts VALUES ({', '.join('?' * 9)})", receipts)
        raw.executemany(f"INSERT INTO bench_ref_lines VALUES ({', '.join('?' * 8)})", lines)
        raw.execute("COMMIT")
        return
    with raw.cursor() as cursor:
        for table, rows in (("bench_ref_receipts", receipts), ("bench_ref_lines", lines)):
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    raw.commit()
