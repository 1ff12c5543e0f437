"""What the poll pages share: the guards of the two permissions and the macro naming a poll in a message."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.errors import DomainError
from smartcomm.web.deps import requires

Viewer = Annotated[Principal, Depends(requires(Permission.POLLS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.POLLS_EDIT))]


def poll_macro(code: str | None) -> str:
    """What a template names to put the poll's personal link in a message."""
    return "{{ client.poll('%s') }}" % (code or "")


def completion(invited: int, respondents: int) -> float | None:
    """Respondents per invited customer (None when nobody was invited: there is no rate to show)."""
    return respondents / invited if invited else None


def refusal(session: Session, error: DomainError) -> str:
    """Undo what the refused action flushed; its message (translated when shown) becomes the toast."""
    session.rollback()
    return error.message
