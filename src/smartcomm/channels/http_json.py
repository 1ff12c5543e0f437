"""What the HTTP providers share (SMS over HTTP-JSON, the Viber aggregator): authentication, a JSON body
built from a field mapping, the provider's id read from the answer by a path, HTTP answers mapped onto
permanent and retryable errors, and delivery-status callbacks read by configured paths and values.

Paths are dotted: `result.messages.0.id` reads `{"result": {"messages": [{"id": …}]}}`.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field

from smartcomm.channels.base import (
    Accepted,
    HandingOver,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SendError,
)
from smartcomm.channels.checks import ProviderSettings, check_json_object, check_url
from smartcomm.channels.fields import FormField
from smartcomm.channels.receipts import CallbackRefused, CallbackRequest, DeliveryState, DeliveryUpdate
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow

AUTH_CHOICES = (
    ("none", lazy("None")),
    ("bearer", lazy("Bearer token")),
    ("basic", lazy("User name and password")),
    ("header", lazy("API key in a header")),
)
CALLBACK_SECRET_HEADER = "x-callback-token"  # noqa: S105 (a header name, not a secret)
Path = Annotated[str, Field(min_length=1, max_length=200)]


class HttpJsonSettings(ProviderSettings):
    """The request side every HTTP-JSON provider has."""

    url: Annotated[
        str,
        Field(min_length=1, max_length=1000),
        FormField(
            lazy("Address of the send method"),
            widget="url",
            placeholder="https://api.example.com/v1/send",
            section=lazy("Request"),
        ),
    ]
    auth: Annotated[
        Literal["none", "bearer", "basic", "header"],
        FormField(lazy("Authentication"), widget="select", choices=AUTH_CHOICES),
    ] = "bearer"
    token: Annotated[
        str | None,
        Field(max_length=2000),
        FormField(lazy("Token or API key"), widget="password", secret=True),
    ] = None
    header_name: Annotated[
        str | None,
        Field(max_length=100),
        FormField(lazy("Header of the API key"), placeholder="X-API-Key"),
    ] = None
    username: Annotated[str | None, Field(max_length=200), FormField(lazy("User name"))] = None
    password: Annotated[
        str | None, Field(max_length=1000), FormField(lazy("Password"), widget="password", secret=True)
    ] = None
    timeout_seconds: Annotated[
        int, Field(ge=1, le=120), FormField(lazy("Timeout, seconds"), widget="number")
    ] = 15
    extra_fields: Annotated[
        str | None,
        Field(max_length=5000),
        FormField(
            lazy("Fixed fields of every request (JSON)"),
            widget="textarea",
            placeholder='{"route": "marketing"}',
        ),
    ] = None
    id_path: Annotated[
        Path,
        FormField(
            lazy("Path of the provider's message id in the answer"),
            placeholder="messages.0.id",
            section=lazy("Answer"),
        ),
    ] = "id"
    callback_secret: Annotated[
        str | None,
        Field(max_length=200),
        FormField(
            lazy("Callback secret"),
            widget="password",
            secret=True,
            section=lazy("Delivery-status callback"),
            hint=lazy("The provider sends it in the X-Callback-Token header or as ?token= in the address."),
        ),
    ] = None
    callback_id_path: Annotated[Path, FormField(lazy("Path of the message id"), placeholder="id")] = "id"
    callback_status_path: Annotated[Path, FormField(lazy("Path of the status"), placeholder="status")] = (
        "status"
    )
    delivered_values: Annotated[
        str,
        Field(max_length=500),
        FormField(lazy("Statuses meaning delivered (comma-separated)"), placeholder="delivered, DELIVRD"),
    ] = "delivered"
    failed_values: Annotated[
        str,
        Field(max_length=500),
        FormField(lazy("Statuses meaning not delivered"), placeholder="undelivered, expired, rejected"),
    ] = "undelivered, expired, rejected, failed"

    def check(self) -> None:
        check_url("url", self.url)
        check_json_object("extra_fields", self.extra_fields)
        if self.auth in ("bearer", "header") and not self.token:
            raise InvalidInput.for_field("token", "Enter the token the provider issued")
        if self.auth == "header" and not self.header_name:
            raise InvalidInput.for_field("header_name", "Enter the name of the header")
        if self.auth == "basic" and not (self.username and self.password):
            raise InvalidInput.for_field("username", "Enter the user name and the password")

    def state_values(self) -> dict[str, DeliveryState]:
        """Provider status (lower case) → delivery state."""
        return _values(self.delivered_values, DeliveryState.DELIVERED) | _values(
            self.failed_values, DeliveryState.UNDELIVERED
        )


def _values(text: str, state: DeliveryState) -> dict[str, DeliveryState]:
    return {value.strip().lower(): state for value in text.split(",") if value.strip()}


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path (list items by number), or None."""
    current = data
    for step in path.split("."):
        if isinstance(current, dict):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Put a value at a dotted path, making the objects on the way."""
    *parents, last = path.split(".")
    current = data
    for step in parents:
        current = current.setdefault(step, {})
    current[last] = value


def request_headers(settings: HttpJsonSettings) -> dict[str, str]:
    if settings.auth == "bearer":
        return {"Authorization": f"Bearer {settings.token}"}
    if settings.auth == "header" and settings.header_name:
        return {settings.header_name: settings.token or ""}
    if settings.auth == "basic":
        pair = f"{settings.username}:{settings.password}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}
    return {}


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header given as seconds or as an HTTP date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


def http_error(response: httpx.Response, invalid_contact: bool = False) -> SendError:
    """A refused request as the ledger's error: 408/429/5xx and refused credentials wait and retry,
    other 4xx are final. The provider's words come along (shortened)."""
    words = f"HTTP {response.status_code}: {response.text[:500]}".strip()
    status = response.status_code
    if status in (408, 425, 429) or status >= 500:
        return RetryableError(words, retry_after=retry_after(response))
    if status in (401, 403):
        return RetryableError(f"the provider refused our credentials: {words}")
    return PermanentError(words, invalid_contact=invalid_contact)


def post_json(
    client: httpx.Client, url: str, body: dict[str, Any], handing_over: HandingOver
) -> httpx.Response:
    """POST the body; `handing_over()` runs right before the request is written. A failure to connect
    means the provider never saw it (retryable); a failure after that leaves the outcome unknown."""
    handing_over()
    try:
        return client.post(url, json=body)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise RetryableError(f"cannot connect to {url}: {error}") from error
    except httpx.TransportError as error:
        raise OutcomeUnknown(f"no answer from {url}: {error}") from error


def accepted(response: httpx.Response, id_path: str, delivered: bool = False) -> Accepted:
    """A 2xx answer: the provider's id read from its JSON by the configured path."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    found = get_path(answer, id_path) if answer is not None else None
    return Accepted(None if found is None else str(found), delivered=delivered)


class JsonHttpSender:
    """One HTTP-JSON provider: a connection pool per batch, a body per message."""

    is_sandbox = False

    def __init__(self, settings: HttpJsonSettings, body: Callable[[OutgoingMessage], dict[str, Any]]) -> None:
        self.settings = settings
        self.body = body
        self.extra = check_json_object("extra_fields", settings.extra_fields)
        self._client: httpx.Client | None = None

    def open(self) -> None:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.settings.timeout_seconds, headers=request_headers(self.settings)
            )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        body = json.loads(json.dumps(self.extra))  # a fresh copy of the fixed fields per message
        body.update(self.body(message))
        self.open()
        assert self._client is not None
        response = post_json(self._client, self.settings.url, body, handing_over)
        if response.is_success:
            return accepted(response, self.settings.id_path)
        raise http_error(response)


def read_callback(
    settings: HttpJsonSettings, request: CallbackRequest, states: dict[str, DeliveryState]
) -> list[DeliveryUpdate]:
    """A delivery-status callback: checked against the callback secret, then one update per item (the
    body is one object or a list of them); items with an unknown status are skipped."""
    authenticate(settings.callback_secret, request)
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        raise CallbackRefused("the callback body is not JSON") from None
    items = payload if isinstance(payload, list) else [payload]
    return list(_updates(items, settings, states))


def authenticate(secret: str | None, request: CallbackRequest) -> None:
    if not secret:
        raise CallbackRefused("no callback secret is configured for this provider")
    given = request.headers.get(CALLBACK_SECRET_HEADER) or request.query.get("token") or ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise CallbackRefused("wrong callback secret")


def _updates(
    items: Iterable[Any], settings: HttpJsonSettings, states: dict[str, DeliveryState]
) -> Iterable[DeliveryUpdate]:
    for item in items:
        provider_id = get_path(item, settings.callback_id_path)
        status = get_path(item, settings.callback_status_path)
        state = states.get(str(status).strip().lower()) if status is not None else None
        if provider_id is not None and state is not None:
            yield DeliveryUpdate(str(provider_id), state, utcnow(), detail=str(status))
