"""Customers → Data import: upload CSV files of customers, receipts or products and follow their imports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.imports.samples import SAMPLES
from smartcomm.imports.schemas import KINDS
from smartcomm.imports.service import import_service, progress_of
from smartcomm.kit.errors import DomainError, NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import gettext_
from smartcomm.kit.pagination import PageParams
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/imports")
Importer = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_IMPORT))]

PAGE_SIZE = 20


@router.get("", response_class=HTMLResponse)
def list_imports(request: Request, session: DbSession, _: Importer, page: int = 1) -> Response:
    """The upload form, the file formats, and the imports with their progress (polled while running)."""
    return _list_page(request, session, page, {"kind": "customers"}, {})


@router.post("")
def start_import(request: Request, session: DbSession, principal: Importer, form: PostedForm) -> Response:
    """Keep the uploaded file and queue its import; the import page follows it."""
    upload, kind = form.get("file"), form.get("kind") or ""
    errors: FormErrors = {}
    if kind not in KINDS:
        errors["kind"] = gettext_("Choose what the file holds.")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = gettext_("Choose a CSV file.")
    if errors or not isinstance(upload, UploadFile):
        return _list_page(request, session, 1, form, errors, status=422)
    try:
        job = import_service.start(
            session, principal.actor, kind=kind, file_name=upload.filename or "import.csv",
            content=upload.file, valid_rows_only=form.get("valid_rows_only") == "true",
        )  # fmt: skip
    except DomainError as error:
        return _list_page(request, session, 1, form, rejected(session, error), status=error.status_code)
    flash(request, "The file was uploaded; its import has started.")
    return redirect(request, f"/imports/{job.id}")


@router.get("/samples/{kind}.csv")
def sample_file(kind: str, _: Importer) -> Response:
    """A small sample file of one import kind."""
    if kind not in SAMPLES:
        raise NotFound("Sample file", kind)
    return _csv(SAMPLES[kind], f"sample-{kind}.csv")


@router.get("/{import_id}", response_class=HTMLResponse)
def import_page(request: Request, session: DbSession, _: Importer, import_id: int) -> Response:
    """One import: its progress while it runs, then its outcome and the row-level error report."""
    job = import_service.get(session, import_id)
    context = {
        "job": job,
        "progress": progress_of(job),
        "creator": import_service.creator_name(session, job),
        "can_retry": import_service.can_import_valid_rows(job),
        "can_run_again": import_service.can_run_again(session, job),
    }
    return render(request, "imports/detail.html", context, fragment="imports/_summary.html")


@router.post("/{import_id}/valid-rows")
def import_valid_rows(request: Request, session: DbSession, principal: Importer, import_id: int) -> Response:
    """Run a rejected import again, importing its valid rows and reporting the others."""
    try:
        job = import_service.import_valid_rows(session, principal.actor, import_id)
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/imports/{import_id}")
    flash(request, "The valid rows are being imported.")
    return redirect(request, f"/imports/{job.id}")


@router.post("/{import_id}/run-again")
def run_again(request: Request, session: DbSession, principal: Importer, import_id: int) -> Response:
    """Run an interrupted import again, from its file, as it was asked for."""
    try:
        job = import_service.run_again(session, principal.actor, import_id)
    except DomainError as error:
        rejected(session, error)
        flash(request, error.message, "danger")
        return redirect(request, f"/imports/{import_id}")
    flash(request, "The import runs again.")
    return redirect(request, f"/imports/{job.id}")


@router.get("/{import_id}/errors.csv")
def errors_file(session: DbSession, _: Importer, import_id: int) -> Response:
    """The row-level error report of an import as a CSV file."""
    job = import_service.get(session, import_id)
    return _csv(import_service.errors_csv(job), f"import-{job.id}-errors.csv")


def _list_page(
    request: Request,
    session: Session,
    page: int,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    found = import_service.search(session, PageParams(page=max(page, 1), size=PAGE_SIZE))
    context = {
        "page": found,
        "progress": {job.id: progress_of(job) for job, _creator in found.items},
        "running": any(progress_of(job).running for job, _creator in found.items),
        "values": values,
        "errors": errors,
        "kinds": KINDS,
    }
    return render(request, "imports/list.html", context, status_code=status, fragment="imports/_table.html")


def _csv(text: str, file_name: str) -> Response:
    # A BOM lets spreadsheet programs open the UTF-8 file with the right encoding.
    headers = {"Content-Disposition": f'attachment; filename="{file_name}"'}
    return Response("\ufeff" + text, media_type="text/csv; charset=utf-8", headers=headers)
