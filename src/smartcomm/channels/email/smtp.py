"""E-mail over SMTP: one connection per batch (reconnected when the server drops it), TLS or STARTTLS,
AUTH, DKIM when configured.

The transaction is driven command by command rather than with `sendmail`, so that `handing_over()` runs
right before the final dot of DATA: until that dot the server discards the message if the connection
ends, after it the server may have it. A connection lost before the dot is reopened and the message
sent again; lost after it, the outcome is unknown and the message is never sent again.
"""

from __future__ import annotations

import re
import smtplib
import socket
from dataclasses import dataclass
from functools import lru_cache

from smartcomm.channels.base import (
    Accepted,
    HandingOver,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SenderIdentity,
    SendError,
)
from smartcomm.channels.checks import tls_context
from smartcomm.channels.email import headers
from smartcomm.channels.email.mime import MimeBuilder, message_id_of
from smartcomm.channels.email.settings import SmtpSettings
from smartcomm.channels.email.signing import DkimSigner

_ENHANCED_STATUS = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
# Enhanced status codes that say the mailbox does not exist or cannot receive mail (RFC 3463).
_BAD_MAILBOX = {(1, 0), (1, 1), (1, 2), (1, 3), (1, 6), (1, 10), (2, 1)}
_QUEUE_ID = re.compile(rb"(?:queued as|\bid=)\s*<?([\w.@-]+)", re.IGNORECASE)


def is_bad_mailbox(code: int, words: bytes, phase: str) -> bool:
    """Whether a 5xx answer means the address itself is dead (a hard bounce), not this message."""
    enhanced = _ENHANCED_STATUS.match(words)
    if enhanced:
        return enhanced.group(1) == b"5" and (int(enhanced.group(2)), int(enhanced.group(3))) in _BAD_MAILBOX
    return phase == "rcpt" and code in (550, 551, 553)


def reply_error(code: int, words: bytes, phase: str) -> SendError:
    """An SMTP refusal as the ledger's error: 4xx is retried, 5xx is final, with the server's words."""
    text = f"{code} {words.decode('utf-8', 'replace')}".strip()
    if 400 <= code < 500:
        return RetryableError(text)
    return PermanentError(text, invalid_contact=is_bad_mailbox(code, words, phase))


@lru_cache(maxsize=64)
def _quoted_sender(address: str) -> str:
    """The envelope sender as MAIL FROM writes it: the same for a whole mass send, parsed once."""
    return smtplib.quoteaddr(address)


def stuffed(data: bytes) -> bytes:
    """Dot-stuffing (RFC 5321 4.5.2): a line starting with "." gets another one."""
    return data.replace(b"\r\n.", b"\r\n..") if b"\r\n." in data else data


@dataclass
class _Progress:
    handed_over: bool = False


class SmtpSender:
    """Sends e-mails through one SMTP server, reusing one connection for the whole batch."""

    is_sandbox = False

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.domain = settings.from_address.rpartition("@")[2]
        default = SenderIdentity(settings.from_name, settings.from_address, settings.reply_to)
        self.builder = MimeBuilder(default, self.domain)
        self.signer = (
            DkimSigner(
                settings.dkim_domain or "", settings.dkim_selector or "", settings.dkim_private_key or ""
            )
            if settings.signs
            else None
        )
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0  # connections opened so far (one per batch unless the server drops it)

    def open(self) -> None:
        if self._smtp is None:
            self._smtp = self._connect()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def send(self, message: OutgoingMessage, handing_over: HandingOver) -> Accepted:
        data = self.message_bytes(message)
        envelope_from = self.settings.return_path or self.builder.sender_of(message).address or ""
        recipient = self._envelope_recipient(message.recipient)
        progress = _Progress()
        for attempt in (1, 2):
            smtp = self._connection()
            try:
                return self._transaction(smtp, envelope_from, recipient, data, handing_over, progress)
            except OSError as error:  # also smtplib's SMTPServerDisconnected
                self._drop()
                if progress.handed_over:
                    raise OutcomeUnknown(
                        f"connection lost after the message was handed over: {error}"
                    ) from error
                if attempt == 2:
                    raise RetryableError(f"connection lost: {error}") from error
        raise AssertionError("unreachable")

    def message_bytes(self, message: OutgoingMessage) -> bytes:
        """The message as it goes over the wire (before dot-stuffing), signed when DKIM is configured."""
        try:
            data = self.builder.build(message)
        except ValueError as error:
            raise PermanentError(str(error), invalid_contact=True) from error
        return self.signer.sign(data) if self.signer else data

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        envelope_from: str,
        recipient: str,
        data: bytes,
        handing_over: HandingOver,
        progress: _Progress,
    ) -> Accepted:
        self._envelope(smtp, envelope_from, recipient)
        smtp.send(stuffed(data))
        try:
            handing_over()
        except BaseException:
            self._drop()  # ending the connection inside DATA makes the server discard the message
            raise
        progress.handed_over = True
        smtp.send(b".\r\n")
        code, words = smtp.getreply()
        if code != 250:
            raise self._refused(code, words, "end")
        found = _QUEUE_ID.search(words)
        return Accepted(found.group(1).decode("ascii") if found else message_id_of(data))

    def _envelope(self, smtp: smtplib.SMTP, envelope_from: str, recipient: str) -> None:
        """MAIL, RCPT and DATA; in one write when the server offers PIPELINING (RFC 2920), which saves two
        round trips a message."""
        if not smtp.has_extn("pipelining"):
            self._expect(smtp, smtp.mail(envelope_from), (250,), "mail")
            self._expect(smtp, smtp.rcpt(recipient), (250, 251), "rcpt")
            self._expect(smtp, smtp.docmd("DATA"), (354,), "data")
            return
        mail_from, rcpt_to = _quoted_sender(envelope_from), smtplib.quoteaddr(recipient)
        smtp.send(f"MAIL FROM:{mail_from}\r\nRCPT TO:{rcpt_to}\r\nDATA\r\n")
        mail, rcpt, data = smtp.getreply(), smtp.getreply(), smtp.getreply()
        if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            self._drop()  # DATA opened without a recipient: leaving in the middle of DATA discards it
        self._expect(smtp, mail, (250,), "mail")
        self._expect(smtp, rcpt, (250, 251), "rcpt")
        self._expect(smtp, data, (354,), "data")

    def _expect(
        self, smtp: smtplib.SMTP, reply: tuple[int, bytes], good: tuple[int, ...], phase: str
    ) -> None:
        code, words = reply
        if code in good:
            return
        error = self._refused(code, words, phase)
        if self._smtp is not None:
            try:
                smtp.rset()  # the next message starts a clean transaction
            except (OSError, smtplib.SMTPException):
                self._drop()
        raise error

    def _refused(self, code: int, words: bytes, phase: str) -> SendError:
        if code == 421 or code == -1:  # the server is closing the connection
            self._drop()
        return reply_error(code, words, phase)

    def _connection(self) -> smtplib.SMTP:
        self.open()
        assert self._smtp is not None
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    @staticmethod
    def _envelope_recipient(address: str) -> str:
        try:
            return headers.ascii_address(address)
        except ValueError as error:
            raise PermanentError(str(error), invalid_contact=True) from error

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = self._socket()
        try:
            # The final dot goes in a write of its own (after `handing_over`): without NODELAY, Nagle's
            # algorithm holds it until the server acknowledges the body, ~40 ms a message.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[union-attr]
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=tls_context(settings.ca_certificate, settings.verify_certificate))
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except smtplib.SMTPResponseException as error:
            smtp.close()
            raise _connection_refused(error) from error
        except (OSError, smtplib.SMTPException) as error:
            smtp.close()
            raise RetryableError(f"{settings.host}:{settings.port}: {error}") from error
        self.connections += 1
        return smtp

    def _socket(self) -> smtplib.SMTP:
        settings = self.settings
        try:
            if settings.security == "tls":
                context = tls_context(settings.ca_certificate, settings.verify_certificate)
                return smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    local_hostname=self.domain,
                    timeout=settings.timeout_seconds,
                    context=context,
                )
            return smtplib.SMTP(
                settings.host, settings.port, local_hostname=self.domain, timeout=settings.timeout_seconds
            )
        except smtplib.SMTPResponseException as error:
            raise _connection_refused(error) from error
        except OSError as error:
            raise RetryableError(f"cannot connect to {settings.host}:{settings.port}: {error}") from error


def _connection_refused(error: smtplib.SMTPResponseException) -> RetryableError:
    """A refusal while connecting or signing in concerns the connection, not a message: every message
    waits for the server (or its settings) to be fixed, none is failed for it."""
    words = error.smtp_error
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
    return RetryableError(f"{error.smtp_code} {text}".strip())
