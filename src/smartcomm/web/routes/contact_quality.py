"""Customers → Contact data quality: how many customers each channel can reach, and who it cannot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.quality import KINDS, ContactQualityOut, contact_quality_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.web.deps import requires
from smartcomm.web.templating import render

router = APIRouter(prefix="/customers")
Viewer = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_VIEW))]

KIND_LABELS: dict[str, LazyString] = {"email": lazy("E-mail"), "phone": lazy("Phone"), "push": lazy("Push")}
KIND_ICONS = {"email": "ti-mail", "phone": "ti-phone", "push": "ti-device-mobile-message"}
# (label, Tabler colour) of each bucket; the colour names the state: reachable, limited, broken, absent.
BUCKETS: dict[str, tuple[LazyString, str]] = {
    "email_valid": (lazy("Valid"), "green"),
    "email_invalid": (lazy("Invalid"), "red"),
    "email_missing": (lazy("Missing"), "secondary"),
    "phone_mobile": (lazy("Mobile numbers"), "green"),
    "phone_landline": (lazy("Landline (no SMS)"), "yellow"),
    "phone_other": (lazy("Other valid"), "azure"),
    "phone_invalid": (lazy("Invalid"), "red"),
    "phone_missing": (lazy("Missing"), "secondary"),
    "push_valid": (lazy("With a valid token"), "green"),
    "push_missing": (lazy("No valid token"), "secondary"),
}
DUPLICATES = lazy("Shared by several customers")


@router.get("/contact-quality", response_class=HTMLResponse)
def contact_quality(request: Request, session: DbSession, _: Viewer) -> Response:
    """E-mails, phones and push tokens by state, with duplicates; every number opens its customers."""
    report = contact_quality_service.report(session)
    context = {"report": report, "kinds": _kinds(report), "chart": _chart(report)}
    return render(request, "customers/contact_quality.html", context)


def _kinds(report: ContactQualityOut) -> list[dict[str, Any]]:
    """Each contact kind with its buckets in order, labelled and coloured, for the cards."""
    kinds = []
    for kind in KINDS:
        found = getattr(report, kind)
        rows = [
            {"label": BUCKETS[b.filter][0], "colour": BUCKETS[b.filter][1], "bucket": b}
            for b in found.buckets.values()
        ]
        kinds.append(
            {
                "key": kind,
                "label": KIND_LABELS[kind],
                "icon": KIND_ICONS[kind],
                "rows": rows,
                "duplicates": found.duplicates,
            }
        )
    return kinds


def _chart(report: ContactQualityOut) -> dict[str, Any]:
    """The doughnuts' data: per kind, the buckets' labels, counts, colour names and list filters."""
    chart = {}
    for kind in KINDS:
        buckets = list(getattr(report, kind).buckets.values())
        chart[kind] = {
            "labels": [str(BUCKETS[b.filter][0]) for b in buckets],
            "counts": [b.count for b in buckets],
            "colours": [BUCKETS[b.filter][1] for b in buckets],
            "filters": [b.filter for b in buckets],
        }
    return chart


def bucket_title(name: str) -> str:
    """A bucket as the customer list names its filter: "E-mail: Invalid"."""
    kind = name.split("_", 1)[0]
    label = DUPLICATES if name.endswith("_duplicate") else BUCKETS[name][0]
    return f"{KIND_LABELS[kind]}: {label}"
