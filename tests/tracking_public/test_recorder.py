"""The process's writer of hits: the pixel answers at once and the hits reach the database in groups."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import httpx
from sqlalchemy.orm import Session

from smartcomm.delivery.tokens import Purpose, sign
from smartcomm.delivery.tracking import OPENED, Hit, Recorder, recorder
from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from smartcomm.models import Message
from tests.tracking_public.helpers import make_customer, make_message


def test_opens_answered_at_once_are_all_written_by_the_writer_thread(
    live_database: Database, live_server: str
) -> None:
    recorder.inline = False
    with live_database.session() as session:
        message = make_message(session, make_customer(session))
        session.commit()
        message_id = message.id
    url = f"{live_server}/t/o/{sign(Purpose.OPEN, message_id)}.gif"
    with httpx.Client(headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"}) as client:
        answers = [client.get(url).status_code for _ in range(40)]
    assert answers == [200] * 40
    assert recorder.flush(timeout=30)
    with live_database.session() as session:
        written = session.get(Message, message_id)
        assert written is not None
        assert (written.opens, written.status) == (40, "opened")


def test_a_hit_that_cannot_be_written_does_not_lose_the_others_of_its_group(session: Session) -> None:
    written: list[int] = []
    release = threading.Event()

    def write(_session: Session, hits: Sequence[Hit]) -> None:
        release.wait(timeout=10)  # hold the first group so that the rest queue up behind it
        if any(hit.message_id == 13 for hit in hits):
            raise ValueError("a hit the database refuses")
        written.extend(hit.message_id for hit in hits)

    writer = Recorder(write)
    for message_id in (1, 12, 13, 14):
        writer.record(Hit(OPENED, message_id, utcnow()))
    release.set()
    assert writer.flush(timeout=30)
    assert sorted(written) == [1, 12, 14]
