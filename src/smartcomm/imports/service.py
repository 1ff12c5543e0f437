"""Rules of CSV imports: queueing uploaded files, and running an import in two streaming passes.

The first pass reads the file in batches, checks every row (types, required values, customers that
must exist, custom fields) and keeps the checked records in a spool. If any row is wrong the import is
rejected and nothing is written — unless only the valid rows were asked for. The second pass writes
the spooled records in batches inside ONE transaction, so a crash half-way writes nothing either.
"""

from __future__ import annotations

import contextlib
import gc
import io
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.catalog.repository import CatalogRepository
from smartcomm.config import config
from smartcomm.fields.repository import FieldRepository
from smartcomm.imports.formats import (
    CUSTOMER_COLUMNS,
    PRODUCT_COLUMNS,
    RECEIPT_COLUMNS,
    CheckContext,
    ColumnSet,
    CustomerRows,
    ProductRows,
    RowChecker,
)
from smartcomm.imports.reading import CsvFile, count_lines
from smartcomm.imports.receipt_rows import LineColumns, ReceiptRows
from smartcomm.imports.receipt_writer import ReceiptBulkWriter
from smartcomm.imports.repository import Bulk, ImportJobRepository
from smartcomm.imports.schemas import (
    KINDS,
    ErrorLog,
    ImportOptions,
    ImportRejected,
    ImportSummary,
    PhaseProgress,
    RowError,
)
from smartcomm.imports.spool import Spool
from smartcomm.imports.writers import CustomerWriter, ProductWriter
from smartcomm.kit.csvfile import SafeCsvWriter
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.jobs import enqueue_after_commit, pause_point
from smartcomm.kit.leases import INTERRUPTED, Claim, Heartbeat, LeaseLost, this_process
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models import ImportJob, User
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

# Rows per batch of either pass; each batch is one progress step and one checkpoint of the job.
BATCH_ROWS = 50_000
CUSTOMER_CACHE_LIMIT = 1_000_000
# Checked receipt lines of a file up to this many wait in memory between the passes (about 100 MB);
# bigger files, and the other kinds (whose records weigh more), wait in a temporary file.
LINES_HELD_IN_MEMORY = 250_000
COLUMNS: dict[str, ColumnSet] = {
    "customers": CUSTOMER_COLUMNS,
    "receipts": RECEIPT_COLUMNS,
    "products": PRODUCT_COLUMNS,
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def imports_folder() -> Path:
    """Where uploaded files wait for their import; shared by every machine that runs workers."""
    return config.var_dir / "imports"


class ImportService:
    def start(
        self,
        session: Session,
        actor: Actor,
        *,
        kind: str,
        file_name: str,
        content: BinaryIO,
        valid_rows_only: bool,
    ) -> ImportJob:
        """Keep an uploaded file and queue its import, which runs once this transaction commits."""
        if kind not in KINDS:
            raise InvalidInput.for_field("kind", "choose customers, receipts or products")
        path = store_upload(content, file_name)
        job = self._add(
            session, actor, kind, Path(file_name).name or "import.csv", path, ImportOptions(valid_rows_only)
        )
        self._enqueue(session, job)
        return job

    def can_import_valid_rows(self, job: ImportJob) -> bool:
        """A rejected import whose file is still here and which has some valid rows can run again for them."""
        whole_file_refused = any(error.get("row") == 1 for error in job.errors or [])
        return (
            job.status == "rejected" and not job.valid_rows_only and not whole_file_refused
            and job.error_rows < job.total_rows and Path(job.file_path).is_file()
        )  # fmt: skip

    def import_valid_rows(self, session: Session, actor: Actor, job_id: int) -> ImportJob:
        """Queue the file of a rejected import again, to import its valid rows and report the others."""
        rejected = self.get(session, job_id)
        if not self.can_import_valid_rows(rejected):
            raise InvalidInput(lazy("This import cannot be run again for its valid rows"))
        options = ImportOptions(True, rejected.classifier)
        job = self._add(session, actor, rejected.kind, rejected.file_name, Path(rejected.file_path), options)
        self._enqueue(session, job)
        return job

    def can_run_again(self, session: Session, job: ImportJob) -> bool:
        """An import interrupted by the end of its process can run again while its file is here, unless
        the file was imported again since."""
        return (
            is_interrupted(job) and Path(job.file_path).is_file()
            and not ImportJobRepository(session).has_later_import(job)
        )  # fmt: skip

    def run_again(self, session: Session, actor: Actor, job_id: int) -> ImportJob:
        """Queue the file of an interrupted import again, as it was asked for (audited)."""
        interrupted = self.get(session, job_id)
        if not self.can_run_again(session, interrupted):
            raise InvalidInput(lazy("This import cannot be run again"))
        options = ImportOptions(interrupted.valid_rows_only, interrupted.classifier)
        path = Path(interrupted.file_path)
        job = self._add(session, actor, interrupted.kind, interrupted.file_name, path, options)
        audit_service.record(
            session, actor, object_type="import", object_id=job.id, action="run_again",
            changes={"kind": [None, job.kind], "file": [None, job.file_name],
                     "interrupted_import": [None, interrupted.id]},
            object_label=job.file_name,
        )  # fmt: skip
        self._enqueue(session, job)
        return job

    def register(
        self, session: Session, actor: Actor, *, kind: str, path: Path, valid_rows_only: bool,
        classifier: str | None = None,
    ) -> ImportJob:  # fmt: skip
        """Record an import of a file already on this machine (the command line runs it at once)."""
        if kind not in KINDS:
            raise InvalidInput.for_field("kind", "choose customers, receipts or products")
        if not path.is_file():
            raise InvalidInput.for_field("file", f"no file at {path}")
        options = ImportOptions(valid_rows_only, classifier)
        return self._add(session, actor, kind, path.name, path.resolve(), options)

    def get(self, session: Session, job_id: int) -> ImportJob:
        job = ImportJobRepository(session).get(job_id)
        if job is None:
            raise NotFound("Import", job_id)
        return job

    def search(self, session: Session, params: PageParams) -> Page[tuple[ImportJob, str | None]]:
        """Imports newest first, with the name of who started each."""
        return ImportJobRepository(session).search(params)

    def creator_name(self, session: Session, job: ImportJob) -> str | None:
        return ImportJobRepository(session).creator_name(job)

    def run(
        self, job_id: int, *, options: ImportOptions | None = None, actor: Actor | None = None,
        progress: PhaseProgress | None = None,
    ) -> ImportSummary:  # fmt: skip
        """Run a queued import to its end (opens and commits its own transactions).

        The job is claimed for this process and its lease renewed while it runs; LeaseLost is raised,
        with nothing more written, when the reaper took it for interrupted meanwhile.
        """
        owner = this_process()
        with session_scope() as session:
            repository = ImportJobRepository(session)
            claimed = repository.claim(job_id, owner, utcnow())
            job = repository.get(job_id)
            if job is None:
                raise NotFound("Import", job_id)
            if not claimed:
                return summary_of(job)  # another worker ran it, or it already ended
            actor = actor or _actor_of(session, job)
        run_options = options or ImportOptions(job.valid_rows_only, job.classifier)
        with Heartbeat(lambda: _renew(job_id, owner)) as heartbeat:
            lease = JobLease(job_id, owner, heartbeat)
            return ImportRun(job, run_options, actor, progress or _no_progress, lease).execute()

    def reap(self) -> list[int]:
        """Mark failed ("interrupted") every import being checked or written whose process is gone.

        Nothing of such an import was written: its rows are written in one transaction, which ended
        with its process. Returns the ids of the imports marked.
        """
        with session_scope(read_only=True) as session:
            gone = [claim for claim in ImportJobRepository(session).claims() if claim.is_gone()]
        return [claim.id for claim in gone if _interrupt(claim)]

    def errors_csv(self, job: ImportJob) -> str:
        """The stored row errors of an import as CSV text (row, column, message)."""
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer, delimiter=",")
        writer.writerow(["row", "column", "message"])
        for error in job.errors:
            writer.writerow([error.get("row"), error.get("column"), error.get("message")])
        return buffer.getvalue()

    def _enqueue(self, session: Session, job: ImportJob) -> None:
        from smartcomm.imports.tasks import run_import  # the task module imports this one

        enqueue_after_commit(session, run_import, job.id)

    def _add(
        self, session: Session, actor: Actor, kind: str, file_name: str, path: Path, options: ImportOptions
    ) -> ImportJob:
        job = ImportJob(
            kind=kind, file_name=file_name[:255], file_path=str(path), classifier=options.classifier,
            valid_rows_only=options.valid_rows_only, status="queued", errors=[],
            created_by_id=actor.user_id if actor.kind == "user" else None,
        )  # fmt: skip
        ImportJobRepository(session).add(job)
        return job


def is_interrupted(job: ImportJob) -> bool:
    """Whether the import stopped with its process (a worker or a command killed), writing nothing."""
    return job.status == "failed" and job.message == INTERRUPTED


@dataclass(frozen=True)
class JobLease:
    """This process's hold on an import: every write of its progress or outcome goes through it."""

    job_id: int
    owner: str
    heartbeat: Heartbeat

    def write(self, session: Session, **values: Any) -> None:
        """Write progress or the outcome in `session`; LeaseLost when the job is no longer this one's."""
        self.heartbeat.check()
        if not ImportJobRepository(session).set_progress(self.job_id, self.owner, **values):
            raise LeaseLost(f"import {self.job_id} was marked interrupted; this run stopped")


def _renew(job_id: int, owner: str) -> bool:
    with session_scope() as session:
        return ImportJobRepository(session).set_progress(job_id, owner)


def _interrupt(claim: Claim) -> bool:
    with session_scope() as session:
        return ImportJobRepository(session).interrupt(claim, utcnow())


def store_upload(content: BinaryIO, file_name: str) -> Path:
    """Copy an uploaded file under the imports folder, streaming, under a name nobody can guess."""
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    safe = _SAFE_NAME.sub("_", Path(file_name).name)[-80:] or "import.csv"
    path = folder / f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(6)}-{safe}"
    with path.open("wb") as target:
        shutil.copyfileobj(content, target, length=1 << 20)
    return path


@dataclass(frozen=True)
class JobProgress:
    """How far a job is, for its progress bar: `percent` is None while the amount done is unknown."""

    running: bool
    percent: int | None
    done: int
    total: int


def progress_of(job: ImportJob) -> JobProgress:
    if job.status == "queued":
        return JobProgress(True, None, 0, 0)
    if job.status == "checking":
        total = max(job.total_rows, job.processed_rows)
        return JobProgress(True, _percent(job.processed_rows, total), job.processed_rows, total)
    if job.status == "writing":
        # On SQLite the job row only changes when the write transaction commits: no count until then.
        total = max(job.total_rows - job.error_rows, job.processed_rows)
        percent = _percent(job.processed_rows, total) if job.processed_rows else None
        return JobProgress(True, percent, job.processed_rows, total)
    return JobProgress(False, 100, job.imported_rows, job.total_rows)


def _percent(done: int, total: int) -> int | None:
    return min(100, done * 100 // total) if total else None


def summary_of(job: ImportJob, seconds: float = 0.0) -> ImportSummary:
    errors = [RowError(int(e["row"]), str(e["column"]), str(e["message"])) for e in job.errors or []]
    status = "done" if job.status == "done" else "rejected"
    return ImportSummary(
        status, job.total_rows, job.imported_rows, job.error_rows, errors, seconds, job.id, job.message or ""
    )


def _actor_of(session: Session, job: ImportJob) -> Actor:
    user = session.get(User, job.created_by_id) if job.created_by_id else None
    if user is None:
        return Actor.system("data import")
    return Actor("user", user.id, f"{user.full_name} <{user.email}>")


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while an import runs.

    The passes create millions of short-lived lists and tuples, and hardly any reference cycles: the
    collector, which wakes up every few hundred new objects and then walks the live ones, would cost
    more than the import's own work. Memory is still freed by reference counting as usual; collection
    resumes afterwards (when it was on).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Plan:
    """The write side of one import kind: write a batch of records, then finish and count."""

    write: Callable[[Any], int]  # a batch of checked records -> rows written
    finish: Callable[[], dict[str, int]]


class ImportRun:
    """One run of one import job, from the first row checked to the last row written."""

    def __init__(
        self, job: ImportJob, options: ImportOptions, actor: Actor, progress: PhaseProgress, lease: JobLease
    ) -> None:
        self.job_id, self.kind, self.file_name = job.id, job.kind, job.file_name
        self.lease = lease
        self.path = Path(job.file_path)
        self.options = options
        self.actor = actor
        self.progress = progress
        self.log = ErrorLog()
        self.total_rows = 0
        self.classifier_id: int | None = None
        self.started = time.perf_counter()

    def execute(self) -> ImportSummary:
        try:
            held = LINES_HELD_IN_MEMORY if self.kind == "receipts" else 0
            with (
                collection_paused(),
                CsvFile(self.path) as source,
                Spool(imports_folder(), memory_rows=held) as spool,
            ):
                checker = self._check(source, spool)
                if self.log.count and not self.options.valid_rows_only:
                    return self._reject()
                return self._write(spool, checker)
        except ImportRejected as rejected:
            self.log.extend(rejected.errors)
            return self._reject()
        except FileNotFoundError:
            self.log.add(RowError(1, "file", "the uploaded file is gone; upload it again"))
            return self._reject()
        except LeaseLost:
            raise  # the reaper's verdict stands: nothing more is written
        except Exception as error:
            with contextlib.suppress(LeaseLost):
                self._finish(status="failed", message=f"The import stopped: {error}"[:1000])
            raise

    # --- first pass: check every row -----------------------------------------------------------------

    def _check(self, source: CsvFile, spool: Spool) -> RowChecker:
        estimate = count_lines(self.path)
        self._checkpoint(status="checking", total_rows=estimate, processed_rows=0)
        with session_scope(read_only=True) as session:
            context = self._context(session)
            layout = COLUMNS[self.kind].layout(source.header, context.custom_types)
            checker = _checker(self.kind, layout, context)
        for batch in source.batches(BATCH_ROWS):
            spool.add(checker.check(batch, self.log))
            self.total_rows += len(batch)
            self.progress("checking", self.total_rows, max(estimate, self.total_rows))
            self._checkpoint(processed_rows=self.total_rows, error_rows=self.log.error_rows)
            pause_point("imports.checking")
        return checker

    def _context(self, session: Session) -> CheckContext:
        general = settings_service.read(session, GeneralSettings)
        fields = FieldRepository(session)
        types = {obj: fields.custom_types(obj) for obj in ("customer", "receipt", "receipt_line", "product")}
        self.classifier_id = _classifier_id(session, self.options.classifier)
        return CheckContext(ZoneInfo(general.time_zone), general.sms_default_country, types, CustomerIds())

    # --- second pass: write in one transaction -------------------------------------------------------

    def _write(self, spool: Spool, checker: RowChecker) -> ImportSummary:
        to_write = spool.records
        self._checkpoint(status="writing", total_rows=self.total_rows, processed_rows=0,
                         error_rows=self.log.error_rows)  # fmt: skip
        with session_scope() as session:
            # SQLite allows one writer: the job row is only updated inside this transaction there.
            separate_progress = session.get_bind().dialect.name != "sqlite"
            plan = self._plan(session, checker)
            written = 0
            for batch in self._write_batches(spool, checker):
                written += plan.write(batch)
                self.progress("writing", written, to_write)
                if separate_progress:
                    self._checkpoint(processed_rows=written)
                pause_point("imports.writing")
            counts = plan.finish()
            self._record(session, written, counts)
            summary = self._finish(session=session, status="done", imported_rows=written)
        return summary

    def _plan(self, session: Session, checker: RowChecker) -> Plan:
        now = utcnow()
        if isinstance(checker, ReceiptRows):
            receipts = ReceiptBulkWriter(
                session, classifier_id=self.classifier_id, split=checker.split, now=now
            )

            def finish_receipts() -> dict[str, int]:
                receipts.finish()
                return {"created": receipts.created, "updated": receipts.replaced}

            return Plan(receipts.write, finish_receipts)
        if isinstance(checker, ProductRows):
            products = ProductWriter(
                session, self.classifier_id or 0, now, sets_category=checker.sets_category
            )
            return Plan(products.write, lambda: {
                "created": products.created, "updated": products.updated,
                "categories_created": products.categories.created, "receipt_lines_linked": products.linked,
            })  # fmt: skip
        customers = CustomerWriter(session, now)
        return Plan(customers.write, lambda: {"created": customers.created, "updated": customers.updated})

    def _write_batches(self, spool: Spool, checker: RowChecker) -> Iterator[Any]:
        if not isinstance(checker, ReceiptRows) or not checker.rejected:
            yield from spool.batches()
            return
        for lines in spool.batches():
            yield self._without_rejected_receipts(lines, checker.rejected)

    def _without_rejected_receipts(
        self, lines: LineColumns, rejected: dict[tuple[str, str], int]
    ) -> LineColumns:
        """With "valid rows only", a receipt with any wrong line is left out whole."""
        left_out: set[int] = set()
        for index, key in enumerate(zip(lines.stores, lines.numbers, strict=True)):
            first_bad = rejected.get(key)
            if first_bad is not None:
                left_out.add(index)
                message = f"not imported: row {first_bad} of the same receipt has an error"
                self.log.add(RowError(lines.rows[index], "number", message))
        return lines.without(left_out)

    def _record(self, session: Session, written: int, counts: dict[str, int]) -> None:
        changes: dict[str, list[Any]] = {
            "kind": [None, self.kind], "file": [None, self.file_name], "rows": [None, self.total_rows],
            "imported_rows": [None, written], "error_rows": [None, self.log.error_rows],
        }  # fmt: skip
        changes |= {name: [None, value] for name, value in counts.items()}
        if self.options.classifier:
            changes["classifier"] = [None, self.options.classifier]
        audit_service.record(
            session, self.actor, object_type="import", object_id=self.job_id, action="import",
            changes=changes, object_label=self.file_name,
        )  # fmt: skip

    # --- the job row ----------------------------------------------------------------------------------

    def _reject(self) -> ImportSummary:
        count = self.log.error_rows
        message = f"{count} row(s) have errors; nothing was imported" if count else "The file was rejected"
        if any(error.row == 1 for error in self.log.kept):
            message = "The file was rejected: " + "; ".join(
                f"{e.column}: {e.message}" for e in self.log.kept[:5]
            )
        return self._finish(status="rejected", message=message[:1000], imported_rows=0)

    def _checkpoint(self, **values: Any) -> None:
        with session_scope() as session:
            self.lease.write(session, **values)

    def _finish(self, *, status: str, session: Session | None = None, **values: Any) -> ImportSummary:
        values = {
            "status": status, "total_rows": self.total_rows, "error_rows": self.log.error_rows,
            "errors": [error.as_dict() for error in self.log.report()], "finished_at": utcnow(), **values,
        }  # fmt: skip
        if session is not None:
            self.lease.write(session, **values)
        else:
            self._checkpoint(**values)
        return ImportSummary(
            "done" if status == "done" else "rejected", self.total_rows, values.get("imported_rows", 0),
            self.log.error_rows, self.log.report(), time.perf_counter() - self.started, self.job_id,
            values.get("message") or "",
        )  # fmt: skip


class CustomerIds:
    """External id -> customer id, looked up a batch at a time and remembered for the next batches."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}

    def __call__(self, external_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(external_ids)
        missing = [external_id for external_id in wanted if external_id not in self.known]
        if missing:
            if len(self.known) > CUSTOMER_CACHE_LIMIT:
                self.known.clear()
            with session_scope(read_only=True) as session:
                found = Bulk(session).pairs_where_in("customers", "external_id", "id", missing)
            self.known.update({external_id: found.get(external_id, 0) for external_id in missing})
        return {external_id: self.known[external_id] for external_id in wanted if self.known.get(external_id)}


def _checker(kind: str, layout: Any, context: CheckContext) -> RowChecker:
    if kind == "receipts":
        return ReceiptRows(layout, context)
    if kind == "products":
        return ProductRows(layout, context)
    return CustomerRows(layout, context)


def _classifier_id(session: Session, code: str | None) -> int | None:
    repository = CatalogRepository(session)
    if not code:
        return repository.system_classifier().id
    classifier = repository.classifier_by_code(code)
    if classifier is None:
        raise ImportRejected([RowError(1, "classifier", f"no classifier with code {code!r}")])
    return classifier.id


import_service = ImportService()
