"""Mass messaging → E-mail, SMS, Push: the mailings of a channel with their header totals, and the JSON
the pages poll for the progress of mailings being sent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.mailings.listing import DEFAULT_SORT, SORTS, Attributed, ListFilter, MailingListing
from smartcomm.mailings.schemas import MailingProgress, MailingStatus
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing
from smartcomm.web.routes.mailings.common import ACTIVE, Viewer, done_share, progress_json
from smartcomm.web.templating import redirect, render

router = APIRouter()
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_POLLED = 100


@dataclass(frozen=True)
class Row:
    """One line of the list: the mailing, where its messages stand, and what it earned."""

    mailing: Mailing
    progress: MailingProgress
    attributed: Attributed
    subject: str | None

    @property
    def recipients(self) -> int:
        return self.progress.recipients

    @property
    def send_date(self) -> Any:
        return self.mailing.started_at or self.mailing.scheduled_at

    @property
    def percent(self) -> int:
        return done_share(self.progress)

    @property
    def active(self) -> bool:
        return self.mailing.status in ACTIVE


@router.get("", response_class=HTMLResponse)
def mailings_home(request: Request, _: Viewer) -> Response:
    return redirect(request, "/mailings/email")


@router.get("/progress")
def progress(session: DbSession, _: Viewer, ids: str = Query(default="", max_length=2000)) -> JSONResponse:
    """Where the asked mailings stand: status, counts and the share done (the pages poll it)."""
    wanted = sorted({int(i) for i in ids.split(",") if i.strip().isdigit() and len(i.strip()) < 19})
    mailings = MailingListing(session).by_ids(wanted[:MAX_POLLED])
    counts = mailing_service.progress(session, [m.id for m in mailings])
    return JSONResponse({str(m.id): progress_json(m, counts[m.id]) for m in mailings})


def list_page(
    request: Request, session: Session, group: str, status: str, q: str, sort: str, page: int, size: int
) -> Response:
    wanted = ListFilter(
        group=group,
        status=status if status in set(MailingStatus) else "",
        query=q.strip()[:200],
        sort=sort if sort.lstrip("-") in SORTS else DEFAULT_SORT,
    )
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    listing = MailingListing(session)
    found = listing.page(wanted, PageParams(page=max(page, 1), size=size))
    context = {
        "group": group,
        "page": found,
        "rows": _rows(session, listing, found.items),
        "wanted": wanted,
        "size": size,
        "sizes": PAGE_SIZES,
        "statuses": list(MailingStatus),
        "totals": listing.channel_totals(group),
        "query": _query(wanted, size),
        "unsorted": _query(replace(wanted, sort=""), size),
    }
    return render(request, "mailings/list.html", context, fragment="mailings/_table.html")


def _rows(session: Session, listing: MailingListing, mailings: list[Mailing]) -> list[Row]:
    ids = [m.id for m in mailings]
    progress = mailing_service.progress(session, ids)
    attributed = listing.attributed(ids)
    subjects = listing.subjects([m.template_version_id for m in mailings if m.channel == "email"])
    return [
        Row(
            m,
            progress[m.id],
            attributed.get(m.id, Attributed()),
            subjects.get(m.template_version_id) if m.template_version_id else None,
        )
        for m in mailings
    ]


def _query(wanted: ListFilter, size: int) -> str:
    """The list's filters as a query string ending in "&" (for the pager's and the headers' links)."""
    values = {"status": wanted.status, "q": wanted.query, "sort": wanted.sort, "size": str(size)}
    return urlencode({key: value for key, value in values.items() if value}) + "&"


def _register(group: str) -> None:
    @router.get(f"/{group}", response_class=HTMLResponse, name=f"mailings_{group}")
    def channel_list(
        request: Request,
        session: DbSession,
        _: Viewer,
        status: str = "",
        q: str = "",
        sort: str = DEFAULT_SORT,
        page: int = 1,
        size: int = DEFAULT_PAGE_SIZE,
    ) -> Response:
        """The mailings of the channel, filtered by status, searched by name, sorted and paged."""
        return list_page(request, session, group, status, q, sort, page, size)


for _group in ("email", "sms", "push"):
    _register(_group)
