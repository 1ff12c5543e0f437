"""Settings → Channels: the provider of each channel, its settings form (made from the kind's schema),
activation, test sends, and the Viber → SMS cascade timeout."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.channels.base import Channel
from smartcomm.channels.cascade import CascadeSettings, checked_timeout
from smartcomm.channels.email.settings import SmtpSettings
from smartcomm.channels.email.signing import load_private_key, public_key_record
from smartcomm.channels.fields import form_fields, sections
from smartcomm.channels.push.webpush import WebPushSettings
from smartcomm.channels.registry import ProviderKind, kind_of, settings_of
from smartcomm.channels.secrets import SecretUnreadable
from smartcomm.channels.service import TestOutcome, channel_provider_service
from smartcomm.config import config
from smartcomm.kit.errors import DomainError, NotFound
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.models import ChannelProvider
from smartcomm.settings.service import settings_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected
from smartcomm.web.routes.data_settings.common import recent_history, refuse
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/settings/channels")
Viewer = Annotated[Principal, Depends(requires(Permission.SETTINGS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.SETTINGS_EDIT))]

CHANNEL_LABELS = {
    Channel.EMAIL: lazy("E-mail"),
    Channel.SMS: lazy("SMS"),
    Channel.VIBER: lazy("Viber"),
    Channel.PUSH: lazy("Push"),
}
CHANNEL_ICONS = {
    Channel.EMAIL: "ti-mail",
    Channel.SMS: "ti-message",
    Channel.VIBER: "ti-device-mobile-message",
    Channel.PUSH: "ti-bell",
}
RECIPIENT_HINTS = {
    Channel.EMAIL: lazy("E-mail address"),
    Channel.SMS: lazy("Phone number"),
    Channel.VIBER: lazy("Phone number"),
    Channel.PUSH: lazy("Push token or Web Push subscription (JSON)"),
}


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise NotFound("Channel", value) from None


@router.get("", response_class=HTMLResponse)
def channels_overview(request: Request, session: DbSession, _: Viewer) -> Response:
    """Every channel with its active provider (or the sandbox) and the providers configured for it."""
    return _overview(request, session, {})


def _overview(request: Request, session: Session, errors: FormErrors, status: int = 200) -> HTMLResponse:
    context = {
        "summaries": channel_provider_service.overview(session),
        "labels": CHANNEL_LABELS,
        "icons": CHANNEL_ICONS,
        "cascade": settings_service.read(session, CascadeSettings),
        "errors": errors,
    }
    return render(request, "settings/channels/list.html", context, status_code=status)


@router.post("/cascade")
def save_cascade(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    """The Viber → SMS cascade: how long a Viber message may stay undelivered before its SMS goes."""
    try:
        minutes = checked_timeout(form.get("viber_timeout_minutes"))
        settings_service.update(session, principal.actor, CascadeSettings, {"viber_timeout_minutes": minutes})
    except DomainError as error:
        return _overview(request, session, rejected(session, error), status=error.status_code)
    flash(request, "Settings saved.")
    return redirect(request, "/settings/channels")


def _form_page(
    request: Request,
    session: Session,
    kind: ProviderKind,
    provider: ChannelProvider | None,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    masks: dict[str, str | None] | None = None,
    outcome: TestOutcome | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "kind": kind,
        "provider": provider,
        "groups": sections(form_fields(kind.settings)),
        "values": values,
        "masks": masks or {},
        "errors": errors,
        "labels": CHANNEL_LABELS,
        "icons": CHANNEL_ICONS,
        "recipient_hint": RECIPIENT_HINTS[kind.channel],
        "outcome": outcome,
        "facts": _facts(provider) if provider else {},
        "history": recent_history(session, "channel_provider", provider.id) if provider else [],
    }
    return render(request, "settings/channels/form.html", context, status_code=status)


def _facts(provider: ChannelProvider) -> dict[str, str]:
    """What the provider page tells besides the form: the callback address, the DKIM DNS record, the
    public VAPID key."""
    kind = kind_of(provider.channel, provider.kind)
    facts: dict[str, str] = {}
    if kind.read_callback is not None:
        facts["callback_url"] = (
            f"{config.public_base_url.rstrip('/')}/callbacks/{provider.channel}/{provider.id}"
        )
    try:
        settings = settings_of(provider)
    except (SecretUnreadable, ValueError):
        return facts | {"unreadable": "true"}
    if isinstance(settings, SmtpSettings) and settings.signs and settings.dkim_private_key:
        facts["dkim_name"] = f"{settings.dkim_selector}._domainkey.{settings.dkim_domain}"
        facts["dkim_record"] = public_key_record(load_private_key(settings.dkim_private_key))
    if isinstance(settings, WebPushSettings):
        facts["vapid_public_key"] = settings.public_key() or ""
    return facts


@router.get("/new", response_class=HTMLResponse)
def new_provider(request: Request, session: DbSession, _: Viewer, channel: str, kind: str) -> Response:
    """The settings form of a new provider of a kind."""
    provider_kind = kind_of(_channel(channel).value, kind)
    defaults = {
        field.name: field.default for field in form_fields(provider_kind.settings) if not field.required
    }
    return _form_page(
        request, session, provider_kind, None, defaults | {"name": str(provider_kind.label)}, {}
    )


@router.post("")
def create_provider(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    provider_kind = kind_of(_channel(str(form.get("channel"))).value, str(form.get("kind")))
    try:
        provider = channel_provider_service.create(
            session, principal.actor, provider_kind.channel.value, provider_kind.kind, form
        )
    except DomainError as error:
        errors = rejected(session, error)
        return _form_page(request, session, provider_kind, None, form, errors, status=error.status_code)
    flash(request, "The provider was saved. Send a test message, then make it active.")
    return redirect(request, f"/settings/channels/{provider.id}")


@router.get("/{provider_id}", response_class=HTMLResponse)
def show_provider(request: Request, session: DbSession, _: Viewer, provider_id: int) -> Response:
    """A provider: its settings (secrets masked), status, test send and recent changes."""
    provider = channel_provider_service.get(session, provider_id)
    values, masks = channel_provider_service.form_values(provider)
    return _form_page(
        request, session, kind_of(provider.channel, provider.kind), provider, values, {}, masks=masks
    )


@router.post("/{provider_id}")
def update_provider(
    request: Request, session: DbSession, principal: Editor, provider_id: int, form: PostedForm
) -> Response:
    provider = channel_provider_service.get(session, provider_id)
    try:
        channel_provider_service.update(session, principal.actor, provider_id, form)
    except DomainError as error:
        errors = rejected(session, error)
        provider = channel_provider_service.get(session, provider_id)
        _, masks = channel_provider_service.form_values(provider)
        kind = kind_of(provider.channel, provider.kind)
        return _form_page(
            request, session, kind, provider, form, errors, masks=masks, status=error.status_code
        )
    flash(request, "The provider was saved.")
    return redirect(request, f"/settings/channels/{provider.id}")


@router.post("/{provider_id}/active")
def set_provider_active(
    request: Request, session: DbSession, principal: Editor, provider_id: int, form: PostedForm
) -> Response:
    active = form.get("active") == "true"
    try:
        channel_provider_service.set_active(session, principal.actor, provider_id, active)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/channels/{provider_id}")
    # Two calls, not one conditional argument: message extraction reads literal arguments only.
    if active:
        flash(request, "The provider is active: the channel's messages go through it.")
    else:
        flash(request, "The provider was deactivated: the channel's messages go to the sandbox.")
    return redirect(request, f"/settings/channels/{provider_id}")


@router.post("/{provider_id}/test", response_class=HTMLResponse)
def test_send(
    request: Request, session: DbSession, principal: Editor, provider_id: int, form: PostedForm
) -> Response:
    """Send a sample message through the provider and show how it went."""
    provider = channel_provider_service.get(session, provider_id)
    recipient = str(form.get("recipient") or "")
    try:
        outcome = channel_provider_service.test_send(session, principal.actor, provider_id, recipient)
    except DomainError as error:
        errors = rejected(session, error)
        return _test_card(request, provider, recipient, None, errors, status=error.status_code)
    return _test_card(request, provider, recipient, outcome, {})


def _test_card(
    request: Request,
    provider: ChannelProvider,
    recipient: str,
    outcome: TestOutcome | None,
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "provider": provider,
        "outcome": outcome,
        "errors": errors,
        "recipient": recipient,
        "recipient_hint": RECIPIENT_HINTS[Channel(provider.channel)],
    }
    return render(request, "settings/channels/_test.html", context, status_code=status)


@router.post("/{provider_id}/delete")
def delete_provider(request: Request, session: DbSession, principal: Editor, provider_id: int) -> Response:
    try:
        channel_provider_service.delete(session, principal.actor, provider_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/channels/{provider_id}")
    flash(request, "The provider was deleted.")
    return redirect(request, "/settings/channels")
