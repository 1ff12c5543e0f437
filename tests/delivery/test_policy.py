"""The policy gate: the order of its checks, caps and rate limits over a batch, and the send-time window
arithmetic (property tests over every time zone: never earlier than the window, never later than its
next opening, daylight-saving changes included)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcomm.delivery.ledger import Bucket, Priority, Reason, bucket_of
from smartcomm.delivery.policy import (
    Candidate,
    Defer,
    Facts,
    Rules,
    Send,
    Suppress,
    Tally,
    WarmUp,
    Window,
    decide,
    next_opening,
    phone_problem,
    recipient_zone,
)
from smartcomm.settings.schemas import DeliverySettings

MOSCOW = ZoneInfo("Europe/Moscow")
NOON_MOSCOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
NIGHT_MOSCOW = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
ZONES = sorted(available_timezones())


def rules(**changes: object) -> Rules:
    return Rules.of(DeliverySettings.model_validate(changes))


def sms(**changes: object) -> Candidate:
    values: dict[str, object] = {"channel": "sms", "source_kind": "mailing", "source_id": 7, "customer_id": 1}
    return Candidate(**(values | changes))  # type: ignore[arg-type]


def facts(**changes: object) -> Facts:
    return Facts(**({"zone": MOSCOW} | changes))  # type: ignore[arg-type]


def test_a_customer_who_may_receive_it_gets_it_at_once_inside_the_window() -> None:
    assert decide(sms(), facts(), rules(), NOON_MOSCOW) == Send()


def test_the_checks_come_in_order_and_the_first_refusal_is_the_reason() -> None:
    everything_wrong = facts(
        allowed=False, subscribed=False, contact_problem=Reason.LANDLINE, excluded=True, recent=99
    )
    message, capped = sms(category_id=3), rules(sms_cap=1)
    assert decide(message, everything_wrong, capped, NOON_MOSCOW) == Suppress(Reason.UNSUBSCRIBED_CHANNEL)
    fewer = facts(subscribed=False, contact_problem=Reason.LANDLINE, excluded=True, recent=99)
    assert decide(message, fewer, capped, NOON_MOSCOW) == Suppress(Reason.UNSUBSCRIBED_CATEGORY)
    fewer = facts(subscribed=True, contact_problem=Reason.LANDLINE, excluded=True, recent=99)
    assert decide(message, fewer, capped, NOON_MOSCOW) == Suppress(Reason.LANDLINE)
    fewer = facts(subscribed=True, excluded=True, recent=99)
    assert decide(message, fewer, capped, NOON_MOSCOW) == Suppress(Reason.EXCLUDED)
    fewer = facts(subscribed=True, recent=99)
    assert decide(message, fewer, capped, NOON_MOSCOW) == Suppress(Reason.FREQUENCY_CAP)


def test_a_category_message_needs_a_subscription_and_one_without_category_does_not() -> None:
    not_in_category = facts(subscribed=None)
    assert decide(sms(category_id=3), not_in_category, rules(), NOON_MOSCOW) == Suppress(
        Reason.UNSUBSCRIBED_CATEGORY
    )
    assert decide(sms(), not_in_category, rules(), NOON_MOSCOW) == Send()


def test_outside_the_window_an_sms_waits_for_nine_in_the_morning_local_time() -> None:
    decision = decide(sms(), facts(), rules(), NIGHT_MOSCOW)
    assert decision == Defer(datetime(2026, 6, 2, 6, 0, tzinfo=UTC), Reason.SEND_WINDOW)


def test_deliver_immediately_ignores_the_window_and_email_has_none_by_default() -> None:
    assert decide(sms(deliver_immediately=True), facts(), rules(), NIGHT_MOSCOW) == Send()
    assert decide(sms(channel="email"), facts(), rules(), NIGHT_MOSCOW) == Send()
    with_window = rules(email_window=True, email_window_start="08:00", email_window_end="20:00")
    assert isinstance(decide(sms(channel="email"), facts(), with_window, NIGHT_MOSCOW), Defer)


def test_a_message_past_its_lifetime_or_that_would_wait_past_it_expires() -> None:
    gone = sms(expires_at=NOON_MOSCOW - timedelta(seconds=1))
    assert decide(gone, facts(), rules(), NOON_MOSCOW) == Suppress(Reason.EXPIRED)
    short = sms(expires_at=NIGHT_MOSCOW + timedelta(hours=1))
    assert decide(short, facts(), rules(), NIGHT_MOSCOW) == Suppress(Reason.EXPIRED)


def test_caps_count_the_batch_and_spare_transactional_and_high_priority_messages() -> None:
    capped, tally = rules(sms_cap=2), Tally()
    seen = facts(recent=1)
    assert decide(sms(), seen, capped, NOON_MOSCOW, tally) == Send()
    tally.count(sms())
    assert decide(sms(), seen, capped, NOON_MOSCOW, tally) == Suppress(Reason.FREQUENCY_CAP)
    assert decide(sms(source_kind="transactional"), seen, capped, NOON_MOSCOW, tally) == Send()
    assert decide(sms(priority=Priority.HIGH), seen, capped, NOON_MOSCOW, tally) == Send()
    strict = rules(sms_cap=2, caps_spare_transactional=False, caps_spare_high_priority=False)
    assert decide(sms(priority=Priority.HIGH), seen, strict, NOON_MOSCOW, tally) == Suppress(
        Reason.FREQUENCY_CAP
    )


def test_a_full_minute_defers_to_the_next_one() -> None:
    limited, tally = rules(sms_rate_per_minute=2), Tally()
    now = NOON_MOSCOW + timedelta(seconds=25)
    for _ in range(2):
        assert decide(sms(), facts(), limited, now, tally) == Send()
        tally.count(sms())
    assert decide(sms(), facts(), limited, now, tally) == Defer(
        NOON_MOSCOW + timedelta(minutes=1), "rate_limit"
    )
    mailing_limit = sms(source_id=8, rate_per_minute=1)
    tally.count(mailing_limit)
    assert decide(mailing_limit, facts(), rules(), now, tally) == Defer(
        NOON_MOSCOW + timedelta(minutes=1), "rate_limit"
    )


def test_reasons_fall_into_the_report_buckets() -> None:
    assert bucket_of(Reason.LANDLINE) == Bucket.ADDRESS_ISSUE
    assert bucket_of(Reason.NO_PUSH_TOKEN) == Bucket.ADDRESS_ISSUE
    assert bucket_of(Reason.FREQUENCY_CAP) == Bucket.BLOCKED_BY_POLICY
    assert bucket_of(Reason.EXCLUDED) == Bucket.BLOCKED_BY_POLICY
    assert bucket_of(Reason.UNSUBSCRIBED_CATEGORY) == Bucket.UNSUBSCRIBED_CATEGORY
    assert bucket_of(Reason.UNSUBSCRIBED_CHANNEL) == Bucket.UNSUBSCRIBED_CHANNEL
    assert bucket_of(Reason.SEND_WINDOW) == Bucket.GOOD
    assert bucket_of(None) == Bucket.GOOD


def test_contacts_and_local_time_zones() -> None:
    assert phone_problem("+74951234567", True, "landline") == Reason.LANDLINE
    assert phone_problem(None, False, None) == Reason.NO_ADDRESS
    assert phone_problem("+79161234567", True, "mobile") is None
    assert recipient_zone("Asia/Vladivostok", "+79161234567", "Europe/Moscow") == ZoneInfo("Asia/Vladivostok")
    # A Russian mobile number spans eleven zones: the project's is one of them.
    assert recipient_zone(None, "+79161234567", "Europe/Moscow") == MOSCOW
    assert recipient_zone("Not/AZone", "+4930123456", "Europe/Moscow") == ZoneInfo("Europe/Berlin")
    assert recipient_zone(None, None, "Asia/Almaty") == ZoneInfo("Asia/Almaty")


def test_daylight_saving_the_opening_inside_a_skipped_hour_is_the_jump() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    window = Window(2 * 60 + 30, 6 * 60)  # 02:30–06:00, and on 29 March 2026 02:00–03:00 does not exist
    before = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 00:00 local
    opening = next_opening(before, berlin, window)
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 summer time, the jump
    assert opening.astimezone(berlin).hour == 3


def test_a_window_swallowed_by_a_clock_change_opens_as_the_clock_jumps() -> None:
    santiago = ZoneInfo("America/Santiago")
    window = Window(0, 60)  # 00:00–01:00; on 10 October 1999 the clock went from 00:00 to 01:00
    opening = next_opening(datetime(1999, 10, 9, 5, 0, tzinfo=UTC), santiago, window)
    assert opening == datetime(1999, 10, 10, 4, 0, tzinfo=UTC)  # not a day later


def test_daylight_saving_a_repeated_hour_opens_at_its_first_occurrence() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    window = Window(2 * 60 + 30, 4 * 60)  # 25 October 2026: 02:00–03:00 happens twice
    opening = next_opening(datetime(2026, 10, 24, 22, 0, tzinfo=UTC), berlin, window)
    assert opening == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


windows = st.builds(
    lambda start, length: Window(start, (start + length) % 1440),
    st.integers(0, 1439),
    st.integers(60, 1439),
)
instants = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(now=instants, zone_name=st.sampled_from(ZONES), window=windows)
def test_the_opening_is_the_first_instant_in_the_window_and_within_a_day(
    now: datetime, zone_name: str, window: Window
) -> None:
    zone = ZoneInfo(zone_name)
    opening = next_opening(now, zone, window)
    assert opening >= now
    just_before = opening - timedelta(microseconds=1)
    jumped_past_start = _offset(just_before, zone) != _offset(opening, zone)
    assert window.holds(opening.astimezone(zone)) or jumped_past_start
    if opening > now:
        assert not window.holds(just_before.astimezone(zone))
        step = now + timedelta(minutes=5)
        while step < opening:  # nothing in between is inside the window
            assert not window.holds(step.astimezone(zone)), step
            step += timedelta(minutes=5)
    moved_back = max(timedelta(0), _offset(now, zone) - _offset(opening, zone))
    assert opening - now <= timedelta(hours=24) + moved_back


def _offset(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


@settings(max_examples=200, deadline=None)
@given(now=instants, zone_name=st.sampled_from(ZONES), window=windows)
def test_a_deferred_message_is_sent_when_the_gate_looks_again_at_its_time(
    now: datetime, zone_name: str, window: Window
) -> None:
    zone = ZoneInfo(zone_name)
    opening = next_opening(now, zone, window)
    assert next_opening(opening, zone, window) == opening


def test_warm_up_defers_e_mail_exactly_above_the_days_allowance_until_the_next_project_day() -> None:
    next_day = datetime(2026, 6, 1, 21, 0, tzinfo=UTC)  # midnight in Moscow
    warming = replace(rules(), warm_up=WarmUp(3, next_day - timedelta(days=1), next_day))
    email = sms(channel="email")
    tally = Tally(emails_today=1)  # one went out earlier today
    decisions = []
    for _ in range(4):
        decisions.append(decide(email, facts(), warming, NOON_MOSCOW, tally))
        if decisions[-1] == Send():
            tally.count(email)
    later = next_day + timedelta(minutes=1)  # not engaged: due after the engaged readers
    assert decisions == [Send(), Send(), Defer(later, Reason.WARM_UP), Defer(later, Reason.WARM_UP)]
    engaged = decide(email, facts(engaged=True), warming, NOON_MOSCOW, tally)
    assert engaged == Defer(next_day, Reason.WARM_UP)
    assert tally.emails_today == 3
    assert decide(sms(), facts(), warming, NOON_MOSCOW, tally) == Send()  # other channels are not ramped
    for kind in ("transactional", "confirmation", "test"):
        assert decide(sms(channel="email", source_kind=kind), facts(), warming, NOON_MOSCOW, tally) == Send()
    assert decide(email, facts(), warming, NOON_MOSCOW) == Send()  # planning (no tally) never defers
    expiring = sms(channel="email", expires_at=next_day - timedelta(minutes=1))
    assert decide(expiring, facts(), warming, NOON_MOSCOW, tally) == Suppress(Reason.EXPIRED)


def test_a_global_control_member_is_held_out_after_consent_and_before_the_contact() -> None:
    holding_out = sms(category_id=3, excludes_global_control=True)
    member = facts(subscribed=True, in_global_control=True, contact_problem=Reason.LANDLINE, excluded=True)
    assert decide(holding_out, member, rules(), NOON_MOSCOW) == Suppress(Reason.GLOBAL_CONTROL)
    unsubscribed = facts(subscribed=False, in_global_control=True)
    assert decide(holding_out, unsubscribed, rules(), NOON_MOSCOW) == Suppress(Reason.UNSUBSCRIBED_CATEGORY)
    assert bucket_of(Reason.GLOBAL_CONTROL) == Bucket.GLOBAL_CONTROL


def test_a_send_that_does_not_hold_the_group_out_reaches_its_members() -> None:
    member = facts(in_global_control=True)
    assert decide(sms(), member, rules(), NOON_MOSCOW) == Send()
