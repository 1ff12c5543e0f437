"""An aiosmtpd server on a free loopback port that records what it receives.

Recipients steer its answers: `unknown@…` is refused at RCPT with 550 5.1.1, `greylisted@…` with 450,
`full@…` gets 452 after DATA, a message to `vanish@…` is taken but the connection ends before the
answer, and after a message to `drop@…` the server closes the connection.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import services
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple[str, int]


@dataclass
class Recorder:
    messages: list[Received] = field(default_factory=list)
    pipelining: bool = False  # offer PIPELINING (RFC 2920) in the EHLO answer

    async def handle_EHLO(  # noqa: N802
        self, server: Any, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if not self.pipelining:
            return responses
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("unknown@"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.startswith("greylisted@"):
            return f"450 4.2.0 <{address}>: Recipient address rejected: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if any(address.startswith("full@") for address in envelope.rcpt_tos):
            return "452 4.3.1 Insufficient system storage"
        data = envelope.original_content or b""
        self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), data, session.peer))
        if any(address.startswith("vanish@") for address in envelope.rcpt_tos):
            server.transport.abort()  # the message is taken, but no answer will ever reach the client
        if any(address.startswith("drop@") for address in envelope.rcpt_tos):
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"250 2.0.0 Ok: queued as Q{len(self.messages):05d}"

    @property
    def connections(self) -> int:
        return len({message.peer for message in self.messages})


def _authenticator(username: str, password: str) -> Any:
    def check(
        server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        login = getattr(auth_data, "login", b"")
        secret = getattr(auth_data, "password", b"")
        return AuthResult(success=login == username.encode() and secret == password.encode(), handled=False)

    return check


@dataclass
class SmtpServer:
    port: int
    recorder: Recorder


@contextmanager
def smtp_server(
    tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None, pipelining: bool = False
) -> Iterator[SmtpServer]:
    """Serves until the block ends. With `tls`, STARTTLS is required; with `login`, AUTH is; with
    `pipelining`, the server offers PIPELINING and the client sends MAIL, RCPT and DATA at once."""
    recorder = Recorder(pipelining=pipelining)
    port = services.free_port()
    options: dict[str, Any] = {}
    if tls is not None:
        options.update(tls_context=tls, require_starttls=True)
    if login is not None:
        options.update(
            authenticator=_authenticator(*login), auth_required=True, auth_require_tls=tls is not None
        )
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(port, recorder)
    finally:
        controller.stop()
