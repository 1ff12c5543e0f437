"""Transactional messages over the API: send one to a customer, and follow what happened to it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from smartcomm.api.deps import api_requires, public_api
from smartcomm.api.schemas import ErrorBody, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.receipts import CallbackRefused, CallbackRequest
from smartcomm.channels.service import channel_provider_service
from smartcomm.delivery.schemas import (
    CallbackOut,
    MessageCreate,
    MessageDetailOut,
    MessageEventOut,
    MessageOut,
    MessagesAccepted,
)
from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.transactional import transactional_service
from smartcomm.intake.idempotency import HEADER
from smartcomm.kit.errors import Forbidden
from smartcomm.kit.http import DbSession
from smartcomm.kit.types import PathId

router = APIRouter(tags=["messages"])
# Outside /api/v1: the address is given to a provider once (Settings → Channels) and never versioned.
callbacks = APIRouter(tags=["provider callbacks"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
SEND_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorBody,
        "description": "The customer, the template or the template version does not exist",
    },
    409: {
        "model": ErrorBody,
        "description": "Several customers share the e-mail or phone given (name the customer by id or "
        "external_id), or another request with the same Idempotency-Key is still running",
    },
    422: {
        "model": ErrorBody,
        "description": "Invalid input: each error names its field (`customer`, `template_id`, "
        "`content.subject` with the template's line, `category`, `sms`, …)",
    },
}


@router.post(
    "/messages", response_model=MessagesAccepted, status_code=status.HTTP_202_ACCEPTED, responses=SEND_ERRORS
)
def send_message(
    session: DbSession, principal: Writer, request: Request, body: MessageCreate
) -> MessagesAccepted:
    """Send a transactional message to a customer, by e-mail, SMS, Viber, push, or Viber with an SMS
    fallback (`sms_viber`: the SMS goes only if Viber is not delivered within the cascade timeout).

    The message is recorded and judged at once: the answer (202) gives its status — `planned` while it
    waits to be sent, `suppressed` with the reason when it may not be sent (`unsubscribed_channel`,
    `unsubscribed_category`, `invalid_address`, `landline`, `no_push_token`, …). Follow it with
    `GET /api/v1/messages/{id}`. With an `Idempotency-Key`, a repeated request never makes a second
    message: it gets the message(s) of the first one."""
    key = request.headers.get(HEADER)
    messages = transactional_service.send(session, principal.actor, body, key)
    return MessagesAccepted(messages=[MessageOut.model_validate(message) for message in messages])


@router.get("/messages/{message_id}", response_model=MessageDetailOut, responses=error_responses(404))
def get_message(session: DbSession, _: Reader, message_id: PathId) -> MessageDetailOut:
    """A message: its status (with the reason of a suppression or failure and the provider's words), its
    milestones, opens and clicks by people, and its history, oldest first (`is_machine` marks opens and
    clicks by privacy proxies and link scanners)."""
    message = delivery_service.get(session, message_id)
    out = MessageDetailOut.model_validate(message)
    out.history = [
        MessageEventOut.model_validate(event) for event in delivery_service.history(session, message.id)
    ]
    return out


async def raw_body(request: Request) -> bytes:
    return await request.body()


@callbacks.post(
    "/callbacks/{channel}/{provider_id}",
    response_model=CallbackOut,
    dependencies=[Depends(public_api)],
    responses=error_responses(403, 404),
)
def provider_callback(
    request: Request,
    session: DbSession,
    channel: str,
    provider_id: PathId,
    body: Annotated[bytes, Depends(raw_body)],
) -> CallbackOut:
    """A provider's delivery receipts and read notices (its own format, authenticated by the provider's
    callback secret): the messages they name move to delivered or opened, or fail (the contact marked
    invalid when it does not exist). A receipt for an unknown message id is ignored."""
    call = CallbackRequest(
        body, {k.lower(): v for k, v in request.headers.items()}, dict(request.query_params)
    )
    try:
        updates = channel_provider_service.callback_updates(session, channel, provider_id, call)
    except CallbackRefused as error:
        raise Forbidden(str(error)) from error
    found = delivery_service.apply_receipts(session, updates, provider_id)
    return CallbackOut(received=len(updates), applied=found)
