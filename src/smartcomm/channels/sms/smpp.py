"""SMS over SMPP 3.4 with smpplib: bind_transceiver, submit_sm (GSM-7 or UCS-2, long texts split with a
UDH by smpplib's helpers), the SMSC's message id from submit_sm_resp, and delivery receipts.

Receipts arrive as deliver_sm on the same bound connection, whenever the SMSC has them: the sender
answers each one and hands it to `on_receipt` while it waits for its own answers, and `poll_receipts`
reads those that arrive after the batch (a worker keeping the bind open calls it).
"""

from __future__ import annotations

import re
import select
from typing import Annotated, Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from pydantic import Field

from smartcomm.channels.base import (
    Accepted,
    HandingOver,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SendError,
    SmsContent,
)
from smartcomm.channels.checks import ProviderSettings
from smartcomm.channels.fields import FormField
from smartcomm.channels.receipts import DeliveryState, DeliveryUpdate, OnReceipt
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow

# Refusals that mean "not now": the SMSC is busy or throttling us.
_RETRYABLE = {
    smpplib.consts.SMPP_ESME_RTHROTTLED,
    smpplib.consts.SMPP_ESME_RMSGQFUL,
    smpplib.consts.SMPP_ESME_RSYSERR,
}
_INVALID_DESTINATION = {smpplib.consts.SMPP_ESME_RINVDSTADR}
_RECEIPT_TEXT = re.compile(rb"id:(?P<id>\S+).*?stat:(?P<stat>[A-Za-z]+)(?:.*?err:(?P<err>\w+))?", re.S)
_DELIVERED = {b"DELIVRD"}
_UNDELIVERED = {b"UNDELIV", b"EXPIRED", b"REJECTD", b"DELETED", b"UNKNOWN"}
# message_state TLV (SMPP 3.4 5.2.28): 2 delivered; 3 expired, 4 deleted, 5 undeliverable, 8 rejected.
_STATE_DELIVERED = {2}
_STATE_UNDELIVERED = {3, 4, 5, 8}
_RECEIPT_FLAG = 0x04  # esm_class: SMSC delivery receipt


class SmppSettings(ProviderSettings):
    host: Annotated[
        str, Field(min_length=1, max_length=255), FormField(lazy("SMSC host"), section=lazy("Server"))
    ]
    port: Annotated[int, Field(ge=1, le=65535), FormField(lazy("Port"), widget="number")] = 2775
    system_id: Annotated[str, Field(min_length=1, max_length=15), FormField(lazy("System ID"))]
    password: Annotated[
        str | None, Field(max_length=8), FormField(lazy("Password"), widget="password", secret=True)
    ] = None
    system_type: Annotated[str | None, Field(max_length=12), FormField(lazy("System type"))] = None
    timeout_seconds: Annotated[
        int, Field(ge=1, le=120), FormField(lazy("Timeout, seconds"), widget="number")
    ] = 10
    source_address: Annotated[
        str,
        Field(min_length=1, max_length=20),
        FormField(
            lazy("Sender name"),
            placeholder="SHOP",
            section=lazy("Sender"),
            hint=lazy("Up to 11 Latin letters and digits, or a phone number."),
        ),
    ]
    delivery_receipts: Annotated[bool, FormField(lazy("Ask for delivery receipts"), widget="checkbox")] = True

    def check(self) -> None:
        if not self.source_address.isascii():
            raise InvalidInput.for_field("source_address", "Use Latin letters and digits")


def source_numbering(address: str) -> tuple[int, int]:
    """(TON, NPI) of the sender: a phone number is international E.164, anything else alphanumeric."""
    digits = address.lstrip("+")
    if digits.isdigit():
        return smpplib.consts.SMPP_TON_INTL, smpplib.consts.SMPP_NPI_ISDN
    return smpplib.consts.SMPP_TON_ALNUM, smpplib.consts.SMPP_NPI_UNK


def parts_of(text: str) -> tuple[list[bytes], int, int]:
    """(parts, data_coding, esm_class): GSM-7 when every character has one, UCS-2 otherwise; texts too
    long for one SMS are split with a concatenation UDH."""
    parts, coding, esm_class = smpplib.gsm.make_parts(text)
    return list(parts), int(coding), int(esm_class)


def status_error(status: int) -> SendError:
    description = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
    words = f"SMPP status 0x{status:08X}: {description}"
    if status in _RETRYABLE:
        return RetryableError(words)
    return PermanentError(words, invalid_contact=status in _INVALID_DESTINATION)


def receipt_of(pdu: Any) -> DeliveryUpdate | None:
    """A deliver_sm that is a delivery receipt, as an update; None for anything else (an incoming SMS)."""
    if not int(getattr(pdu, "esm_class", 0) or 0) & _RECEIPT_FLAG:
        return None
    text = bytes(getattr(pdu, "short_message", b"") or b"")
    found = _RECEIPT_TEXT.search(text)
    provider_id = _tlv_bytes(pdu, "receipted_message_id") or (found.group("id") if found else b"")
    state = _state_from_tlv(pdu) or (_state_from_text(found.group("stat")) if found else None)
    if not provider_id or state is None:
        return None
    detail = text.decode("ascii", "replace")[:300]
    return DeliveryUpdate(provider_id.decode("ascii", "replace"), state, utcnow(), detail=detail)


def _tlv_bytes(pdu: Any, name: str) -> bytes:
    value = getattr(pdu, name, None)
    return value.rstrip(b"\x00") if isinstance(value, bytes) else b""


def _state_from_tlv(pdu: Any) -> DeliveryState | None:
    value = getattr(pdu, "message_state", None)
    if value in _STATE_DELIVERED:
        return DeliveryState.DELIVERED
    return DeliveryState.UNDELIVERED if value in _STATE_UNDELIVERED else None


def _state_from_text(stat: bytes) -> DeliveryState | None:
    word = stat.upper()
    if word in _DELIVERED:
        return DeliveryState.DELIVERED
    return DeliveryState.UNDELIVERED if word in _UNDELIVERED else None


class _Lost(Exception):
    """The bound connection ended."""


class SmppSender:
    """A bound transceiver: submits messages one by one and passes on the receipts it reads."""

    is_sandbox = False

    def __init__(self, settings: SmppSettings, on_receipt: OnReceipt | None = None) -> None:
        self.settings = settings
        self.on_receipt = on_receipt
        self._client: smpplib.client.Client | None = None
        self.binds = 0  # connections bound so far

    def open(self) -> None:
        if self._client is None:
            self._client = self._bind()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.send_pdu(smpplib.smpp.make_pdu("unbind", client=client))
            self._read_until(client, lambda pdu: pdu.command == "unbind_resp")
        except (_Lost, OSError, smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError):
            pass
        client.disconnect()

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        content = message.content
        if not isinstance(content, SmsContent) or not content.text.strip():
            raise PermanentError("an SMS needs a text")
        destination = message.recipient.lstrip("+")
        if not destination.isdigit():
            raise PermanentError(f"not a phone number: {message.recipient}", invalid_contact=True)
        parts = parts_of(content.text)
        client = self._connection()
        handing_over()
        try:
            ids = [self._submit(client, destination, part, parts[1], parts[2], message) for part in parts[0]]
        except (_Lost, OSError, smpplib.exceptions.ConnectionError) as error:
            self._drop()
            raise OutcomeUnknown(f"the SMSC connection ended before its answer: {error}") from error
        return Accepted(ids[0])

    def poll_receipts(self, idle_seconds: float) -> int:
        """Read what the SMSC sends until it is quiet for `idle_seconds`; returns the receipts passed on."""
        client = self._connection()
        count = 0
        while self._wait_readable(client, idle_seconds):
            pdu = self._read(client)
            count += self._dispatch(client, pdu)
        return count

    def _submit(
        self,
        client: Any,
        destination: str,
        part: bytes,
        coding: int,
        esm_class: int,
        message: OutgoingMessage,
    ) -> str:
        ton, npi = source_numbering(message.sender.name or self.settings.source_address)
        pdu = client.send_message(
            source_addr_ton=ton,
            source_addr_npi=npi,
            source_addr=(message.sender.name or self.settings.source_address).lstrip("+"),
            dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
            dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
            destination_addr=destination,
            short_message=part,
            data_coding=coding,
            esm_class=esm_class,
            registered_delivery=1 if self.settings.delivery_receipts else 0,
        )
        sequence = pdu.sequence
        answer = self._read_until(
            client, lambda got: got.command in ("submit_sm_resp", "generic_nack") and got.sequence == sequence
        )
        if answer.status != 0:
            raise status_error(int(answer.status))
        return bytes(answer.message_id or b"").rstrip(b"\x00").decode("ascii", "replace")

    def _read_until(self, client: Any, wanted: Any) -> Any:
        """Read PDUs, answering the SMSC's own requests meanwhile, until one satisfies `wanted`."""
        while True:
            pdu = self._read(client)
            if wanted(pdu):
                return pdu
            self._dispatch(client, pdu)

    def _dispatch(self, client: Any, pdu: Any) -> int:
        """Answer a request of the SMSC (receipts, enquire_link); returns 1 for a receipt passed on."""
        if pdu.command == "enquire_link":
            self._respond(client, "enquire_link_resp", pdu)
        elif pdu.command == "deliver_sm":
            self._respond(client, "deliver_sm_resp", pdu)
            update = receipt_of(pdu)
            if update is not None and self.on_receipt is not None:
                self.on_receipt(update)
                return 1
        elif pdu.command == "unbind":
            self._respond(client, "unbind_resp", pdu)
            raise _Lost("the SMSC unbound")
        return 0

    @staticmethod
    def _respond(client: Any, command: str, request: Any) -> None:
        answer = smpplib.smpp.make_pdu(command, client=client)
        answer.sequence = request.sequence
        client.send_pdu(answer)

    @staticmethod
    def _read(client: Any) -> Any:
        try:
            return client.read_pdu()
        except TimeoutError as error:
            raise _Lost("no answer within the timeout") from error

    @staticmethod
    def _wait_readable(client: Any, seconds: float) -> bool:
        readable, _, _ = select.select([client._socket], [], [], seconds)
        return bool(readable)

    def _connection(self) -> Any:
        """The bound client; a connection the SMSC ended since the last message is bound again."""
        if self._client is not None and self._is_closed(self._client):
            self._drop()
        self.open()
        return self._client

    def _is_closed(self, client: Any) -> bool:
        """A connection the SMSC closed reads as end-of-file; pending requests are answered first."""
        try:
            while self._wait_readable(client, 0):
                self._dispatch(client, self._read(client))
        except (_Lost, OSError, smpplib.exceptions.ConnectionError):
            return True
        return False

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()

    def _bind(self) -> Any:
        settings = self.settings
        client = smpplib.client.Client(
            settings.host, settings.port, timeout=settings.timeout_seconds, allow_unknown_opt_params=True
        )
        try:
            client.connect()
            client.bind_transceiver(
                system_id=settings.system_id,
                password=settings.password or "",
                system_type=settings.system_type or "",
            )
        except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError) as error:
            client.disconnect()
            raise RetryableError(f"cannot bind to {settings.host}:{settings.port}: {error}") from error
        self.binds += 1
        return client
