"""What the mailing pages share: the guards of the three permissions and the progress they poll."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.mailings.schemas import MailingProgress, MailingStatus
from smartcomm.models import Mailing
from smartcomm.web.deps import requires

Viewer = Annotated[Principal, Depends(requires(Permission.MAILINGS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.MAILINGS_EDIT))]
Launcher = Annotated[Principal, Depends(requires(Permission.MAILINGS_LAUNCH))]
# Statuses whose numbers still move: their pages poll the progress.
ACTIVE = frozenset({MailingStatus.COLLECTING, MailingStatus.SENDING})
CHANNEL_GROUP = {"email": "email", "sms": "sms", "sms_viber": "sms", "push": "push"}


def done_share(progress: MailingProgress) -> int:
    """Percent of the recorded messages that are settled (sent, failed, suppressed or cancelled)."""
    settled = progress.sent + progress.failed + progress.suppressed + progress.cancelled
    total = settled + progress.planned
    return round(100 * settled / total) if total else 0


def progress_json(mailing: Mailing, progress: MailingProgress) -> dict[str, Any]:
    return {
        "status": mailing.status,
        "active": mailing.status in ACTIVE,
        "percent": done_share(progress),
        "counts": progress.model_dump(),
    }


def joined(messages: Any) -> str:
    """Several error messages as one toast."""
    return "; ".join(str(message) for message in messages)
