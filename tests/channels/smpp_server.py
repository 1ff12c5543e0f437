"""A small SMPP 3.4 server (an SMSC stand-in) on a free loopback port, for the tests.

It speaks the protocol with smpplib's PDU classes: bind_transceiver (checking the system id and
password), submit_sm → submit_sm_resp with a message id, then a deliver_sm delivery receipt for it when
one was asked for, enquire_link both ways (it sends one right after the bind, the client must answer),
unbind. Destinations steer it: 79990000001 is an invalid destination, 79990000002 is throttled,
79990000003 gets an UNDELIV receipt; after a message to 79990000009 it closes the connection.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import services
import smpplib.consts
import smpplib.smpp

INVALID, THROTTLED, UNDELIVERED, HANG_UP = "79990000001", "79990000002", "79990000003", "79990000009"


class _Sequences:
    """What smpplib's PDU classes ask of a client: sequence numbers."""

    def __init__(self) -> None:
        self.sequence = 0x10000

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence


@dataclass
class Submitted:
    source: str
    destination: str
    short_message: bytes
    data_coding: int
    esm_class: int
    message_id: str


@dataclass
class SmscState:
    system_id: str
    password: str
    submitted: list[Submitted] = field(default_factory=list)
    binds: int = 0
    enquire_link_answers: int = 0
    closed: int = 0  # connections the server has closed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self) -> str:
        return f"{0xA000 + len(self.submitted):08X}"


def _read_pdu(connection: socket.socket) -> Any | None:
    head = _recv_exact(connection, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">L", head)
    rest = _recv_exact(connection, length - 4)
    if rest is None:
        return None
    return smpplib.smpp.parse_pdu(head + rest, client=_Sequences(), allow_unknown_opt_params=True)


def _recv_exact(connection: socket.socket, size: int) -> bytes | None:
    chunks, received = [], 0
    while received < size:
        chunk = connection.recv(size - received)
        if not chunk:
            return None
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


class _Session(socketserver.BaseRequestHandler):
    server: Any

    def handle(self) -> None:
        self.sequences = _Sequences()
        state: SmscState = self.server.state
        while True:
            pdu = _read_pdu(self.request)
            if pdu is None or not self._answer(pdu, state):
                return

    def _answer(self, pdu: Any, state: SmscState) -> bool:
        if pdu.command == "bind_transceiver":
            return self._bind(pdu, state)
        if pdu.command == "submit_sm":
            return self._submit(pdu, state)
        if pdu.command == "enquire_link":
            self._reply("enquire_link_resp", pdu)
        elif pdu.command == "enquire_link_resp":
            with state.lock:
                state.enquire_link_answers += 1
        elif pdu.command == "deliver_sm_resp":
            pass
        elif pdu.command == "unbind":
            self._reply("unbind_resp", pdu)
            return False
        return True

    def _bind(self, pdu: Any, state: SmscState) -> bool:
        good = pdu.system_id == state.system_id.encode() and pdu.password == state.password.encode()
        status = 0 if good else smpplib.consts.SMPP_ESME_RBINDFAIL
        self._reply("bind_transceiver_resp", pdu, status=status, system_id="TESTSMSC")
        if good:
            with state.lock:
                state.binds += 1
            self._send(smpplib.smpp.make_pdu("enquire_link", client=self.sequences))
        return good

    def _submit(self, pdu: Any, state: SmscState) -> bool:
        destination = pdu.destination_addr.decode()
        if destination == INVALID:
            self._reply("submit_sm_resp", pdu, status=smpplib.consts.SMPP_ESME_RINVDSTADR, message_id="")
            return True
        if destination == THROTTLED:
            self._reply("submit_sm_resp", pdu, status=smpplib.consts.SMPP_ESME_RTHROTTLED, message_id="")
            return True
        with state.lock:
            message_id = state.next_id()
            state.submitted.append(
                Submitted(
                    pdu.source_addr.decode(),
                    destination,
                    bytes(pdu.short_message),
                    int(pdu.data_coding),
                    int(pdu.esm_class),
                    message_id,
                )
            )
        self._reply("submit_sm_resp", pdu, message_id=message_id)
        if pdu.registered_delivery:
            self._receipt(message_id, destination)
        return destination != HANG_UP

    def _receipt(self, message_id: str, destination: str) -> None:
        stat = "UNDELIV" if destination == UNDELIVERED else "DELIVRD"
        text = (
            f"id:{message_id} sub:001 dlvrd:{'000' if stat == 'UNDELIV' else '001'} submit date:2612061000 "
            f"done date:2612061001 stat:{stat} err:000 text:"
        )
        receipt = smpplib.smpp.make_pdu(
            "deliver_sm",
            client=self.sequences,
            source_addr=destination,
            destination_addr="SHOP",
            esm_class=0x04,
            short_message=text.encode(),
        )
        self._send(receipt)

    def _reply(self, command: str, request: Any, status: int = 0, **fields: Any) -> None:
        answer = smpplib.smpp.make_pdu(command, client=self.sequences, **fields)
        answer.sequence = request.sequence
        answer.status = status
        self._send(answer)

    def _send(self, pdu: Any) -> None:
        self.request.sendall(pdu.generate())


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: SmscState

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self.state.lock:
            self.state.closed += 1


@dataclass
class Smsc:
    port: int
    state: SmscState


@contextmanager
def smpp_server(system_id: str = "shop", password: str = "secret") -> Iterator[Smsc]:  # noqa: S107
    port = services.free_port()
    server = _Server(("127.0.0.1", port), _Session)
    server.state = SmscState(system_id, password)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Smsc(port, server.state)
    finally:
        server.shutdown()
        server.server_close()
