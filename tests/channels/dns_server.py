"""A DNS server on a free loopback UDP port answering TXT questions from a dict of records.

`records` maps a name to its TXT values (a value longer than 255 bytes is split into strings, as
published keys are); a name not there is NXDOMAIN; a name in `silent` gets no answer (a timeout).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


@dataclass
class DnsServer:
    records: dict[str, list[str]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    port: int = 0
    asked: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.asked.append(name)
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            response.answer.append(_txt_rrset(question.name, self.records[name]))
        return response.to_wire()


def _txt_rrset(name: dns.name.Name, values: list[str]) -> dns.rrset.RRset:
    texts = [" ".join(f'"{chunk}"' for chunk in _chunks(value)) for value in values]
    return dns.rrset.from_text_list(name, 300, dns.rdataclass.IN, dns.rdatatype.TXT, texts)


def _chunks(value: str) -> list[str]:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return [escaped[start : start + 250] for start in range(0, max(len(escaped), 1), 250)]


@contextmanager
def dns_server(
    records: dict[str, list[str]] | None = None, silent: set[str] | None = None
) -> Iterator[DnsServer]:
    server = DnsServer({k.lower(): v for k, v in (records or {}).items()}, set(silent or ()))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    server.port = sock.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            reply = server.answer(wire)
            if reply is not None:
                sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join()
        sock.close()
