"""CSV import of target audiences: semicolon-separated UTF-8 files of customer ids, streamed in batches.

One audience for the whole file (one id per line, a trailing `;` allowed) or an audience per row
(`id;Audience name`). Ids are external ids, platform ids, phones or e-mails; phones and e-mails are
normalised the way customer contacts are before they are looked up. The file is read a batch of rows
at a time: each batch costs one lookup of its customers, one lookup of existing members and one
INSERT. Rows that add nobody go to a report (all of them to a CSV file, the first ones to the import's
record). The whole import is one transaction: a file that cannot be read writes nothing, and neither
does an import whose process is killed (the reaper then marks it "interrupted"; see `kit.leases`).
"""

from __future__ import annotations

import csv
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy.orm import InstrumentedAttribute, Session

from smartcomm.audiences.repository import AudienceImportRepository, AudienceRepository
from smartcomm.audiences.schemas import NAME_LENGTH, AudienceIn, IdType, ImportMode, ImportRequest, Unmatched
from smartcomm.audiences.service import OBJECT_TYPE, announce_change, audience_service
from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.config import config
from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.kit.csvfile import SafeCsvWriter, csv_text
from smartcomm.kit.db import session_scope
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.jobs import enqueue_after_commit, pause_point
from smartcomm.kit.leases import INTERRUPTED, Claim, Heartbeat, LeaseLost, this_process
from smartcomm.kit.time import utcnow
from smartcomm.models import Audience, AudienceImport, Customer, User
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

BATCH_ROWS = 5_000
MAX_STORED_UNMATCHED = 1_000
MAX_STORED_AUDIENCES = 500
MAX_PLATFORM_ID_DIGITS = 18
REPORT_SUFFIX = ".unmatched.csv"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

LOOKUP_COLUMNS: dict[IdType, InstrumentedAttribute[Any]] = {
    IdType.EXTERNAL_ID: Customer.external_id,
    IdType.PLATFORM_ID: Customer.id,
    IdType.PHONE: Customer.phone,
    IdType.EMAIL: Customer.email,
}
NOT_UTF8 = lazy('The file is not UTF-8 text: save it as "CSV UTF-8" and upload it again.')
NAME_TOO_LONG = lazy("the audience name is longer than 200 characters")
NOT_FOUND: dict[IdType, str] = {
    IdType.EXTERNAL_ID: lazy("no customer with this external id"),
    IdType.PLATFORM_ID: lazy("no customer with this platform id"),
    IdType.PHONE: lazy("no customer with this phone"),
    IdType.EMAIL: lazy("no customer with this e-mail"),
}


class ImportFailed(Exception):
    """The file cannot be imported at all (not UTF-8, unreadable, gone); nothing was written."""


def imports_folder() -> Path:
    """Uploaded files wait here for their import (shared by every machine that runs workers)."""
    return config.var_dir / "imports"


def store_upload(content: BinaryIO, file_name: str) -> Path:
    """Copy an uploaded file to the imports folder in chunks, under a name nobody can guess."""
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    safe = _SAFE_NAME.sub("_", Path(file_name).name)[-80:] or "audience.csv"
    path = folder / f"audience-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(6)}-{safe}"
    with path.open("wb") as target:
        shutil.copyfileobj(content, target, length=1 << 20)
    return path


def report_path(job: AudienceImport) -> Path:
    return Path(job.file_path + REPORT_SUFFIX)


# --- reading ------------------------------------------------------------------------------------------


def read_rows(handle: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank row, one at a time."""
    reader = csv.reader(handle, delimiter=";")
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            raise ImportFailed(NOT_UTF8) from error
        except csv.Error as error:
            raise ImportFailed(f"Line {previous + 1} cannot be read: {error}") from error
        line, previous = previous + 1, reader.line_num
        stripped = [cell.strip() for cell in cells]
        if any(stripped):
            yield line, stripped


def looks_like_id(id_type: IdType, value: str) -> bool:
    """Whether a first line holds an id rather than column titles: ids have digits, e-mails an @."""
    if id_type is IdType.EMAIL:
        return "@" in value
    return any(character.isdigit() for character in value)


def lookup_key(id_type: IdType, value: str, country: str) -> tuple[Any, str | None]:
    """The value to look customers up by, or None and the reason it cannot name anybody."""
    if id_type is IdType.EXTERNAL_ID:
        return (value, None) if len(value) <= 64 else (None, lazy("too long for an external id"))
    if id_type is IdType.PLATFORM_ID:
        if value.isdigit() and len(value) <= MAX_PLATFORM_ID_DIGITS:
            return int(value), None
        return None, lazy("a platform id is a number")
    if id_type is IdType.PHONE:
        phone = normalize_phone(value, country)
        return (phone.value, None) if phone.valid else (None, lazy("not a valid phone number"))
    email = normalize_email(value)
    return (email.value, None) if email.valid else (None, lazy("not a valid e-mail address"))


@dataclass
class Row:
    line: int
    value: str
    audience: str | None  # the audience name of the row (an audience per row)
    key: Any = None
    reason: str | None = None


@dataclass
class AudienceTally:
    """What the import did to one audience."""

    id: int
    name: str
    created: bool = False
    added: int = 0
    already_members: int = 0

    def as_dict(self, member_count: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created,
            "added": self.added,
            "already_members": self.already_members,
            "member_count": member_count,
        }


@dataclass
class Report:
    """Rows that added nobody: all of them to a CSV file, the first ones kept for the import page."""

    path: Path
    total: int = 0
    kept: list[dict[str, Any]] = field(default_factory=list)
    _handle: IO[str] | None = None
    _writer: Any = None

    def add(self, item: Unmatched) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = SafeCsvWriter(self._handle)
            self._writer.writerow(["row", "value", "reason"])
        self._writer.writerow([item.row, item.value, item.reason])
        self.total += 1
        if len(self.kept) < MAX_STORED_UNMATCHED:
            self.kept.append(item.as_dict())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


# --- running ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportLease:
    """This process's hold on a running import: its outcome is written only while the row is its own."""

    import_id: int
    owner: str
    heartbeat: Heartbeat

    def confirm(self, session: Session) -> None:
        """Renew the lease in `session` (and so, on PostgreSQL, lock the row until it commits); LeaseLost
        when the import was found interrupted meanwhile."""
        self.heartbeat.check()
        if not AudienceImportRepository(session).renew(self.import_id, self.owner, utcnow()):
            raise LeaseLost(f"audience import {self.import_id} was marked interrupted; this run stopped")


class ImportRun:
    """One import, inside one transaction: read, match, insert in batches, then count and audit.

    The import's own row is changed only at the end, once the lease is confirmed: a row updated early
    would stay locked on PostgreSQL for the whole import, and the heartbeat could not renew it.
    """

    def __init__(self, session: Session, job: AudienceImport, actor: Actor, lease: ImportLease) -> None:
        self.session, self.job, self.actor, self.lease = session, job, actor, lease
        self.id_type, self.mode = IdType(job.id_type), ImportMode(job.mode)
        self.country = settings_service.read(session, GeneralSettings).sms_default_country
        self.members = AudienceRepository(session)
        self.report = Report(report_path(job))
        self.tallies: dict[int, AudienceTally] = {}
        self.by_name: dict[str, AudienceTally] = {}
        self.single: AudienceTally | None = None
        self.rows_read = 0

    def execute(self) -> None:
        try:
            self._prepare_target()
            with Path(self.job.file_path).open(encoding="utf-8-sig", newline="") as handle:
                for batch in self._batches(read_rows(handle)):
                    self._process(batch)
                    self.lease.heartbeat.check()
                    pause_point("audiences.import")
        except FileNotFoundError as error:
            self.report.discard()
            raise ImportFailed(lazy("The uploaded file is gone; upload it again.")) from error
        except BaseException:
            self.report.discard()
            raise
        self.report.close()
        self._finish()

    def _prepare_target(self) -> None:
        if self.mode is ImportMode.PER_ROW:
            self.by_name = {name.casefold(): AudienceTally(id_, name) for id_, name in self.members.names()}
            return
        if self.job.audience_name:
            self.single = self._create_audience(self.job.audience_name)
        elif self.job.audience_id is not None:
            audience = self.session.get(Audience, self.job.audience_id)
            self.single = AudienceTally(audience.id, audience.name) if audience else None
        if self.single is None:
            raise ImportFailed(lazy("The audience was deleted before the import ran."))
        self.tallies[self.single.id] = self.single

    def _batches(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[Row]]:
        batch: list[Row] = []
        first = True
        for line, cells in rows:
            row = Row(line, cells[0], cells[1] if len(cells) > 1 else "")
            if first:
                first = False
                if self._is_header(row):
                    continue
            self.rows_read += 1
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    def _is_header(self, row: Row) -> bool:
        """Whether the first row holds titles: its value does not look like an id of the chosen type."""
        if looks_like_id(self.id_type, row.value):
            return False
        if self.id_type is IdType.EXTERNAL_ID:
            # External ids are free text: a first value that names a customer is data, whatever it looks like.
            return not self.members.customers_by(Customer.external_id, [row.value])
        return True

    def _process(self, batch: list[Row]) -> None:
        """One lookup of the batch's customers, then one insert of the memberships that are new."""
        for row in batch:
            row.key, row.reason = lookup_key(self.id_type, row.value, self.country)
        keys = [row.key for row in batch if row.key is not None]
        customers = self.members.customers_by(LOOKUP_COLUMNS[self.id_type], keys)
        wanted: dict[tuple[int, int], int] = {}  # pair -> how many rows name it
        for row in batch:
            found = customers.get(row.key, []) if row.key is not None else []
            target = self._target(row) if found else None
            if not found or target is None:
                self.report.add(Unmatched(row.line, row.value, row.reason or NOT_FOUND[self.id_type]))
                continue
            for customer_id in found:
                wanted[(target.id, customer_id)] = wanted.get((target.id, customer_id), 0) + 1
        self._insert(wanted)

    def _target(self, row: Row) -> AudienceTally | None:
        if self.single is not None:
            return self.single
        name = (row.audience or "").strip()
        if not name:
            row.reason = lazy("no audience name")
            return None
        if len(name) > NAME_LENGTH:
            row.reason = NAME_TOO_LONG
            return None
        tally = self.by_name.get(name.casefold()) or self._create_audience(name)
        self.tallies.setdefault(tally.id, tally)
        return tally

    def _create_audience(self, name: str) -> AudienceTally:
        source = f"import of {self.job.file_name}"
        audience = audience_service.create(self.session, self.actor, AudienceIn(name=name), source=source)
        tally = AudienceTally(audience.id, audience.name, created=True)
        self.by_name[name.casefold()] = tally
        return tally

    def _insert(self, wanted: dict[tuple[int, int], int]) -> None:
        """Insert the pairs that are new; every other mention of a pair counts as "already a member"."""
        existing = self.members.members_among(wanted)
        new = [pair for pair in wanted if pair not in existing]
        for pair, mentions in wanted.items():
            tally, is_new = self.tallies[pair[0]], pair not in existing
            tally.added += int(is_new)
            tally.already_members += mentions - int(is_new)
        now = utcnow()
        self.members.insert_members([{"audience_id": a, "customer_id": c, "added_at": now} for a, c in new])
        added: dict[int, list[int]] = {}
        for audience_id, customer_id in new:
            added.setdefault(audience_id, []).append(customer_id)
        for audience_id, customer_ids in sorted(added.items()):
            announce_change(self.session, audience_id, added=customer_ids)

    def _finish(self) -> None:
        self.lease.confirm(self.session)
        self.members.recount(list(self.tallies))
        counts = self.members.member_counts(list(self.tallies))
        for tally in self.tallies.values():
            self._audit(tally, counts.get(tally.id, 0))
        job = self.job
        job.rows_read, job.unmatched_total, job.unmatched = (
            self.rows_read,
            self.report.total,
            self.report.kept,
        )
        job.added = sum(t.added for t in self.tallies.values())
        job.already_members = sum(t.already_members for t in self.tallies.values())
        job.audiences_created = sum(1 for t in self.tallies.values() if t.created)
        ordered = sorted(self.tallies.values(), key=lambda t: t.name.casefold())[:MAX_STORED_AUDIENCES]
        job.audiences = [t.as_dict(counts.get(t.id, 0)) for t in ordered]
        if self.single is not None:
            job.audience_id = self.single.id  # the new audience, when the import made one
        job.status, job.finished_at = "done", utcnow()
        self.session.flush()

    def _audit(self, tally: AudienceTally, member_count: int) -> None:
        changes: dict[str, list[Any]] = {
            "file": [None, self.job.file_name],
            "id_type": [None, self.id_type.value],
            "added": [None, tally.added],
            "already_members": [None, tally.already_members],
            "member_count": [None, member_count],
        }
        if self.single is not None:
            changes |= {"rows": [None, self.rows_read], "unmatched": [None, self.report.total]}
        audit_service.record(
            self.session,
            self.actor,
            object_type=OBJECT_TYPE,
            object_id=tally.id,
            action="import",
            changes=changes,
            object_label=tally.name,
        )


# --- the service --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an import reads and where it puts the customers it finds."""

    id_type: str
    mode: str
    audience_id: int | None
    audience_name: str | None  # a new audience the import creates


class AudienceImportService:
    def start(
        self, session: Session, actor: Actor, request: ImportRequest, file_name: str, content: BinaryIO
    ) -> AudienceImport:
        """Keep an uploaded file and queue its import, which runs once this transaction commits."""
        audience_id, new_name = self._check_target(session, request)
        path = store_upload(content, file_name)
        target = Target(request.id_type.value, request.mode.value, audience_id, new_name)
        return self._queue(session, actor, Path(file_name).name or "audience.csv", path, target)

    def get(self, session: Session, import_id: int) -> AudienceImport:
        job = AudienceImportRepository(session).get(import_id)
        if job is None:
            raise NotFound("Audience import", import_id)
        return job

    def recent(self, session: Session, limit: int = 10) -> list[AudienceImport]:
        """The latest imports, newest first."""
        return AudienceImportRepository(session).recent(limit)

    def run(self, import_id: int) -> str:
        """Run a queued import to its end in its own transactions; returns its final status.

        The import is claimed for this process and its lease renewed while it runs; LeaseLost is raised,
        with nothing written, when it was found interrupted meanwhile (its file is then kept, so that
        it can run again).
        """
        owner = this_process()
        with session_scope() as session:
            repository = AudienceImportRepository(session)
            claimed = repository.claim(import_id, owner, utcnow())
            job = repository.get(import_id)
            if job is None:
                raise NotFound("Audience import", import_id)
            if not claimed:
                return job.status  # another worker has it, or it already ended
            upload = Path(job.file_path)
        try:
            with Heartbeat(lambda: _renew(import_id, owner)) as heartbeat, session_scope() as session:
                job = self.get(session, import_id)
                lease = ImportLease(import_id, owner, heartbeat)
                ImportRun(session, job, _actor_of(session, job), lease).execute()
        except LeaseLost:
            raise
        except ImportFailed as failure:
            self._fail(import_id, owner, str(failure))
            upload.unlink(missing_ok=True)
            return "failed"
        except Exception as error:
            self._fail(import_id, owner, f"The import stopped: {type(error).__name__}: {error}")
            upload.unlink(missing_ok=True)
            raise
        # An import runs once, whatever its outcome: the uploaded contacts are not kept.
        upload.unlink(missing_ok=True)
        return "done"

    def reap(self) -> list[int]:
        """Mark failed ("interrupted") every running import whose process is gone; returns their ids.

        Nothing of such an import was written (it is one transaction); its partial report goes, its
        uploaded file stays for "Run again".
        """
        with session_scope(read_only=True) as session:
            gone = [claim for claim in AudienceImportRepository(session).claims() if claim.is_gone()]
        return [claim.id for claim in gone if _interrupt(claim)]

    def can_run_again(self, session: Session, job: AudienceImport) -> bool:
        """An import interrupted by the end of its process can run again while its file is here, unless
        the file was imported again since."""
        return (
            is_interrupted(job)
            and Path(job.file_path).is_file()
            and not AudienceImportRepository(session).has_later_import(job)
        )

    def run_again(self, session: Session, actor: Actor, import_id: int) -> AudienceImport:
        """Queue the file of an interrupted import again, with the same ids and audiences (audited)."""
        interrupted = self.get(session, import_id)
        if not self.can_run_again(session, interrupted):
            raise InvalidInput(lazy("This import cannot be run again"))
        if interrupted.audience_name and audience_service.find_by_name(session, interrupted.audience_name):
            raise InvalidInput.for_field("new_name", "an audience with this name already exists")
        target = Target(
            interrupted.id_type, interrupted.mode, interrupted.audience_id, interrupted.audience_name
        )
        job = self._queue(session, actor, interrupted.file_name, Path(interrupted.file_path), target)
        audit_service.record(
            session,
            actor,
            object_type="audience_import",
            object_id=job.id,
            action="run_again",
            changes={"file": [None, job.file_name], "interrupted_import": [None, interrupted.id]},
            object_label=job.file_name,
        )
        return job

    def report_lines(self, job: AudienceImport) -> Iterator[str]:
        """The unmatched rows as semicolon-separated CSV lines (the full report when its file is kept)."""
        path = report_path(job)
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                yield from handle
            return
        yield "row;value;reason\r\n"
        for item in job.unmatched or []:
            yield _csv_line([item.get("row"), item.get("value"), item.get("reason")])

    def _check_target(self, session: Session, request: ImportRequest) -> tuple[int | None, str | None]:
        audience_id, new_name = request.target()
        if request.mode is ImportMode.PER_ROW:
            return None, None
        if new_name:
            if audience_service.find_by_name(session, new_name) is not None:
                raise InvalidInput.for_field("new_name", "an audience with this name already exists")
            return None, new_name
        if audience_id is None:
            raise InvalidInput(
                "Choose an audience or enter the name of a new one",
                [FieldError("audience_id", "choose an audience or enter the name of a new one")],
            )
        return audience_service.get(session, audience_id).id, None

    def _queue(
        self, session: Session, actor: Actor, file_name: str, path: Path, target: Target
    ) -> AudienceImport:
        """A queued import of the file at `path` into the audiences `target` names (runs after commit)."""
        from smartcomm.audiences.tasks import run_audience_import  # the task module imports this one

        job = AudienceImport(
            file_name=file_name[:255],
            file_path=str(path),
            id_type=target.id_type,
            mode=target.mode,
            audience_id=target.audience_id,
            audience_name=target.audience_name,
            status="queued",
            unmatched=[],
            audiences=[],
            created_by_id=actor.user_id if actor.kind == "user" else None,
        )
        AudienceImportRepository(session).add(job)
        enqueue_after_commit(session, run_audience_import, job.id)
        return job

    def _fail(self, import_id: int, owner: str, message: str) -> None:
        """Record the failure of an import this process still runs (one found interrupted keeps that)."""
        with session_scope() as session:
            now, empty = utcnow(), {"rows_read": 0, "added": 0, "already_members": 0, "unmatched_total": 0}
            values = {"status": "failed", "message": message[:1000], "finished_at": now, **empty}
            AudienceImportRepository(session).renew(import_id, owner, now, **values)


def is_interrupted(job: AudienceImport) -> bool:
    """Whether the import stopped with its process (a worker killed), writing nothing."""
    return job.status == "failed" and job.message == INTERRUPTED


def _renew(import_id: int, owner: str) -> bool:
    with session_scope() as session:
        return AudienceImportRepository(session).renew(import_id, owner, utcnow())


def _interrupt(claim: Claim) -> bool:
    with session_scope() as session:
        repository = AudienceImportRepository(session)
        if not repository.interrupt(claim, utcnow()):
            return False
        job = repository.get(claim.id)
        if job is not None:
            report_path(job).unlink(missing_ok=True)  # the partial report of the rows read before
        return True


def _csv_line(cells: list[Any]) -> str:
    return csv_text([cells])


def _actor_of(session: Session, job: AudienceImport) -> Actor:
    user = session.get(User, job.created_by_id) if job.created_by_id else None
    if user is None:
        return Actor.system("audience import")
    return Actor("user", user.id, f"{user.full_name} <{user.email}>")


audience_import_service = AudienceImportService()
