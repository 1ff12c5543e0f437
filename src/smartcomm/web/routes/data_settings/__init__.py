"""Settings pages for data: fields, dictionaries, mailing categories, classifiers, event sources, containers.

Opening a page needs `settings.view`; every change needs `settings.edit`.
"""

from __future__ import annotations

from fastapi import APIRouter

from smartcomm.web.routes.data_settings import (
    classifiers,
    containers,
    dictionaries,
    event_sources,
    fields,
    mailing_categories,
)

router = APIRouter()
for module in (fields, dictionaries, mailing_categories, classifiers, event_sources, containers):
    router.include_router(module.router)
