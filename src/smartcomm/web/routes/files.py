"""Uploaded images such as the company logo (public: they appear on the sign-in page)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from smartcomm.kit.http import DbSession
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import public

router = APIRouter()


@router.get("/files/{file_id}", dependencies=[Depends(public)])
def stored_file(session: DbSession, file_id: int) -> Response:
    stored = settings_service.get_file(session, file_id)
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    if stored.content_type == "image/svg+xml":
        # An SVG can carry script: never let it run in our origin.
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return Response(stored.data, media_type=stored.content_type, headers=headers)
