"""Customers → Segments: the list, the builder (save and live count), the segment page and its actions."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audiences.service import audience_service
from smartcomm.kit.time import utcnow
from smartcomm.models import AudienceMember, AuditEntry, Segment, SegmentBuild
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import SegmentSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.segments.shop import ACTOR, MATCHING, Shop, build_shop
from tests.web.test_customers_pages import counted_statements


@pytest.fixture
def shop(session: Session) -> Shop:
    made = build_shop(session)
    session.commit()
    return made


def sign_in_as(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def saved_segment(session: Session, shop: Shop, name: str = "Dairy lovers") -> Segment:
    segment = segment_service.create(session, ACTOR, SegmentIn(name=name, rules=shop.segment_rules()))
    segment_service.build(session, segment.id, "manual")
    session.commit()
    return segment


def segment_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Segment)) or 0)


def post_builder(client: UIClient, url: str, name: str, rules: dict[str, object]):
    return client.submit(url, {"name": name, "description": "", "rules": json.dumps(rules)})


# --- the builder: saving and the live count -------------------------------------------------------------


def test_marketer_saves_a_segment_and_it_is_built(client: UIClient, session: Session, shop: Shop) -> None:
    sign_in_as(client, session, "marketer")
    page = client.get("/segments/new")
    assert page.status_code == 200
    assert 'id="builder-config"' in page.text and "purchases.category_count" in page.text

    response = post_builder(client, "/segments", "Dairy lovers", shop.rules())

    assert response.status_code == 303
    segment = session.scalars(select(Segment).where(Segment.name == "Dairy lovers")).one()
    assert response.headers["location"] == f"/segments/{segment.id}"
    session.refresh(segment)
    # Huey runs jobs immediately in tests: the build queued after the commit has stored its figures.
    assert (segment.member_count, segment.last_build_status) == (2, "done")
    assert segment.base_share == pytest.approx(2 / 6, abs=1e-4)


def test_saving_with_an_invalid_condition_names_it_and_writes_nothing(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "marketer")
    rules = shop.rules()
    rules["root"]["children"][1]["operator"] = "gte"  # not an operator of a yes/no metric
    before = segment_count(session)

    response = post_builder(client, "/segments", "Broken", rules)

    assert response.status_code == 422
    problem = "“≥” cannot be used with “Subscribed to a mailing category”: choose another comparison"
    assert html.escape(problem, quote=True) in response.text
    config = json.loads(_config(response.text))
    assert config["errors"] == {"root.children[1]": problem}
    assert "contacts.subscribed" not in json.dumps(config["errors"])
    assert config["rules"] == rules  # the tree as posted, to correct it
    assert segment_count(session) == before
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "segment")
        )
        == 0
    )


def test_a_condition_without_an_attribute_and_an_empty_name_are_both_reported(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "marketer")
    rules = shop.rules()
    rules["root"]["children"].append({"metric": "", "operator": ""})

    response = post_builder(client, "/segments", "", rules)

    assert response.status_code == 422
    config = json.loads(_config(response.text))
    assert config["errors"] == {"root.children[3]": "Choose an attribute"}
    assert 'data-error-for="name"' in response.text
    assert segment_count(session) == 0


def test_editing_with_an_invalid_condition_keeps_the_stored_rules(
    client: UIClient, session: Session, shop: Shop
) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "marketer")
    rules = shop.rules()
    rules["root"]["children"][0]["params"]["period"] = {
        "kind": "between",
        "start": "2026-02-01",
        "end": "2026-01-01",
    }

    response = post_builder(client, f"/segments/{segment.id}/edit", "Renamed", rules)

    assert response.status_code == 422
    assert json.loads(_config(response.text))["errors"] == {
        "root.children[0]": "The period starts after it ends"
    }
    session.refresh(segment)
    assert segment.name == "Dairy lovers"
    assert segment.rules == shop.segment_rules().model_dump(mode="json")


def _config(html: str, builder: str = "builder") -> str:
    marker = f'id="{builder}-config">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("</script>", start)]


def test_the_live_count_shows_customers_and_share_of_the_base(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "marketer")

    response = client.post(
        "/segments/preview",
        data={"rules": json.dumps(shop.rules()), "builder": "builder"},
        headers={"X-CSRF-Token": client.csrf, "HX-Request": "true"},
    )

    assert response.status_code == 200
    assert 'data-live-count="2"' in response.text
    assert "2 customers · 33.3 % of the base" in response.text
    assert segment_count(session) == 0


def test_the_live_count_names_the_bad_condition(client: UIClient, session: Session, shop: Shop) -> None:
    sign_in_as(client, session, "analyst")
    rules = shop.rules()
    rules["root"]["children"][0]["params"].pop("category")

    response = client.post(
        "/segments/preview",
        data={"rules": json.dumps(rules), "builder": "builder"},
        headers={"X-CSRF-Token": client.csrf, "HX-Request": "true"},
    )

    assert response.status_code == 422
    assert 'data-problem-path="root.children[0]"' in response.text
    assert "Condition 1" in response.text
    assert "“Bought from the category (times)” needs “Category (with subcategories)”" in html.unescape(
        response.text
    )


def test_an_empty_tree_counts_the_whole_base(client: UIClient, session: Session, shop: Shop) -> None:
    sign_in_as(client, session, "marketer")

    response = client.post("/segments/preview", data={"rules": ""}, headers={"X-CSRF-Token": client.csrf})

    assert 'data-live-count="6"' in response.text


# --- lookups of parameter values ------------------------------------------------------------------------


def test_lookups_find_categories_with_their_parents_and_events_by_name(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "marketer")

    categories = client.get("/segments/lookup/category", params={"q": "dai"}).json()
    products = client.get("/segments/lookup/product", params={"q": "milk"}).json()
    audiences = client.get("/segments/lookup/audience", params={"q": "disturb"}).json()
    unknown = client.get("/segments/lookup/nothing")

    assert categories == [{"value": str(shop.dairy_id), "label": "Dairy", "hint": "Food"}]
    assert [(p["label"], p["hint"]) for p in products] == [("Milk 3.2%", "MILK-1")]
    assert [(a["value"], a["label"]) for a in audiences] == [(str(shop.audience_id), "Do not disturb")]
    assert unknown.status_code == 404


# --- the list -------------------------------------------------------------------------------------------


def test_the_list_shows_the_five_figures_and_the_last_build(
    client: UIClient, session: Session, shop: Shop
) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "analyst")

    page = client.get("/segments")

    assert page.status_code == 200
    row = _row(page.text, f'data-segment-id="{segment.id}"')
    assert '<div class="fw-medium" data-metric="members">2</div>' in row
    assert "33.3&nbsp;%" in row  # 2 of 6 customers
    # Anna 2 × 179.80 + 90.00 of bread, Dina 3 × 179.80 + 90.00: 1,079.00 of everyone's 2,697.60 → 40 %.
    assert "40.0&nbsp;%" in row
    assert "154.14" in row  # average receipt: 1,079.00 over 7 receipts
    assert "539.50" in row  # LTV: 1,079.00 over 2 members
    assert 'data-badge="stale"' not in row and 'data-badge="failed"' not in row
    assert "New segment" not in page.text  # analysts only look


def test_the_list_marks_stale_and_failed_builds(client: UIClient, session: Session, shop: Shop) -> None:
    stale = saved_segment(session, shop, "Old one")
    failed = saved_segment(session, shop, "Broken one")
    interval = settings_service.read(session, SegmentSettings).rebuild_interval_hours
    stale.last_built_at = utcnow() - timedelta(hours=2 * interval + 1)
    segment_service.record_failure(session, failed.id, "schedule", "OperationalError: database is locked")
    session.commit()
    sign_in_as(client, session, "marketer")

    page = client.get("/segments")

    stale_row = _row(page.text, f'data-segment-id="{stale.id}"')
    failed_row = _row(page.text, f'data-segment-id="{failed.id}"')
    assert 'data-badge="stale"' in stale_row and 'data-badge="failed"' not in stale_row
    assert 'data-badge="failed" title="OperationalError: database is locked"' in failed_row
    assert 'data-badge="stale"' not in failed_row


def test_the_search_keeps_segments_whose_name_contains_the_words(
    client: UIClient, session: Session, shop: Shop
) -> None:
    saved_segment(session, shop, "Dairy lovers")
    saved_segment(session, shop, "Bread fans")
    sign_in_as(client, session, "marketer")

    fragment = client.get(
        "/segments", params={"q": "dairy"}, headers={"HX-Request": "true", "HX-Target": "segments-table"}
    )

    assert "Dairy lovers" in fragment.text and "Bread fans" not in fragment.text
    assert "<html" not in fragment.text


def test_an_administrator_changes_the_rebuild_interval(
    client: UIClient, session: Session, admin_client: UIClient
) -> None:
    response = admin_client.submit("/segments/settings", {"rebuild_interval_hours": "12"})

    assert response.status_code == 303
    assert settings_service.read(session, SegmentSettings).rebuild_interval_hours == 12
    refused = admin_client.submit("/segments/settings", {"rebuild_interval_hours": "0"})
    assert refused.status_code == 303
    assert settings_service.read(session, SegmentSettings).rebuild_interval_hours == 12


def test_a_marketer_sees_the_interval_but_cannot_change_it(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "marketer")

    page = client.get("/segments")

    assert "Every segment is rebuilt every 6 hours." in page.text
    assert 'id="schedule-form"' not in page.text
    assert client.submit("/segments/settings", {"rebuild_interval_hours": "2"}).status_code == 403


# --- a segment's page -----------------------------------------------------------------------------------


def test_the_segment_page_words_the_rules_and_lists_builds_and_members(
    client: UIClient, session: Session, shop: Shop
) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "marketer")

    page = client.get(f"/segments/{segment.id}")

    assert page.status_code == 200
    rules = _between(page.text, 'id="segment-rules">', "</div>\n    </div>")[len('id="segment-rules">') :]
    words = " ".join(_text(rules).split())
    assert words == (
        "Bought from the category (times) Dairy ≥ 2 in the last 90 days and "
        "Subscribed to a mailing category Promotions · E-mail yes and "
        "not In the target audience Do not disturb yes"
    )
    members = _between(page.text, 'id="members"', "</table>")
    assert "Orlova Anna" in members and "Petrova Dina" in members and "Sokolov" not in members
    assert page.text.count('data-build-status="done"') == 2  # the build after saving and the one by hand


def test_build_now_queues_a_build_and_audits_it(client: UIClient, session: Session, shop: Shop) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "marketer")

    response = client.submit(f"/segments/{segment.id}/build")

    assert response.status_code == 303
    statement = (
        select(SegmentBuild.trigger).where(SegmentBuild.segment_id == segment.id).order_by(SegmentBuild.id)
    )
    # Saving queued a build ("rules") that ran at the commit, after the test's own build ("manual").
    assert session.scalars(statement).all() == ["manual", "rules", "manual"]
    audited = select(AuditEntry.action).where(AuditEntry.object_type == "segment").order_by(AuditEntry.id)
    assert session.scalars(audited).all() == ["create", "build"]


def test_the_page_polls_while_a_build_runs_and_reloads_after(
    client: UIClient, session: Session, shop: Shop
) -> None:
    segment = saved_segment(session, shop)
    segment.last_build_status = "running"
    session.commit()
    sign_in_as(client, session, "marketer")
    htmx = {"HX-Request": "true", "HX-Target": "build-status"}

    page = client.get(f"/segments/{segment.id}")
    running = client.get(f"/segments/{segment.id}", headers=htmx)
    segment.last_build_status = "done"
    session.commit()
    finished = client.get(f"/segments/{segment.id}", headers=htmx)

    assert 'hx-trigger="every 2s"' in page.text and 'data-badge="running"' in page.text
    assert 'hx-trigger="every 2s"' in running.text and "<html" not in running.text
    assert finished.headers["HX-Refresh"] == "true"


def test_export_streams_the_members_as_csv_and_is_audited(
    client: UIClient, session: Session, shop: Shop
) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "analyst")

    response = client.get(f"/segments/{segment.id}/export.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="segment-{segment.id}-dairy-lovers.csv"'
    )
    assert response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "External id",
        "Last name",
        "First name",
        "Middle name",
        "E-mail",
        "Phone",
        "City",
        "Receipts",
        "Purchase amount",
        "Last purchase",
    ]
    assert sorted(row[:9] for row in rows[1:]) == [
        ["C-1", "Orlova", "Anna", "", "anna@example.com", "", "Moscow", "3", "449.60"],
        ["C-5", "Petrova", "Dina", "", "dina@example.com", "", "Moscow", "4", "629.40"],
    ]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).one()
    assert (entry.object_type, entry.object_id, entry.changes) == (
        "segment",
        str(segment.id),
        {"format": [None, "csv"], "members": [None, 2]},
    )


def test_an_operator_may_not_export_or_open_segments(client: UIClient, session: Session, shop: Shop) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "operator")

    assert client.get(f"/segments/{segment.id}/export.csv").status_code == 403
    assert client.get(f"/segments/{segment.id}").status_code == 403
    assert (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export")) == 0
    )


def test_members_are_added_to_a_new_audience_and_removed_from_another(
    client: UIClient, session: Session, shop: Shop
) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "marketer")

    added = client.submit(f"/segments/{segment.id}/audience", {"new_audience": "Dairy VIP", "action": "add"})
    audience = audience_service.find_by_name(session, "Dairy VIP")
    assert added.status_code == 303 and audience is not None
    members = set(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "audience")))
    assert members == {"create", "add_members"}
    assert _audience_members(session, audience.id) == {shop.customers[c] for c in MATCHING}

    removed = client.submit(
        f"/segments/{segment.id}/audience", {"audience_id": str(audience.id), "action": "remove"}
    )
    assert removed.status_code == 303
    assert _audience_members(session, audience.id) == set()


def test_a_segment_another_one_uses_is_not_deleted(client: UIClient, session: Session, shop: Shop) -> None:
    base = saved_segment(session, shop, "Dairy lovers")
    rules = {
        "root": {
            "children": [{"metric": "segments.member", "operator": "is_true", "params": {"segment": base.id}}]
        }
    }
    from smartcomm.segments.rules import SegmentRules

    segment_service.create(
        session, ACTOR, SegmentIn(name="Loyal dairy", rules=SegmentRules.model_validate(rules))
    )
    session.commit()
    sign_in_as(client, session, "marketer")

    dialog = client.get(
        f"/segments/{base.id}/delete", headers={"HX-Request": "true", "HX-Target": "dialog-content"}
    )
    response = client.submit(f"/segments/{base.id}/delete")

    assert "Loyal dairy" in dialog.text and 'id="confirm-delete"' not in dialog.text
    assert response.status_code == 422
    assert "The segment is used by: Loyal dairy" in response.text
    session.expire_all()
    assert segment_count(session) == 2


def test_a_segment_nobody_uses_is_deleted(client: UIClient, session: Session, shop: Shop) -> None:
    segment = saved_segment(session, shop)
    sign_in_as(client, session, "marketer")

    response = client.submit(f"/segments/{segment.id}/delete")

    assert (response.status_code, response.headers["location"]) == (303, "/segments")
    session.expire_all()
    assert segment_count(session) == 0


# --- helpers --------------------------------------------------------------------------------------------


def _audience_members(session: Session, audience_id: int) -> set[int]:
    statement = select(AudienceMember.customer_id).where(AudienceMember.audience_id == audience_id)
    return set(session.scalars(statement))


def _between(html: str, start: str, end: str) -> str:
    at = html.index(start)
    return html[at : html.index(end, at)]


def _row(html: str, marker: str) -> str:
    return _between(html, marker, "</tr>")


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html).replace("“", "").replace("”", "")


# --- the customer-list filter ---------------------------------------------------------------------------


def test_the_customer_list_filter_restricts_the_list_and_offers_to_save_it(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "marketer")
    rules = json.dumps(shop.rules())

    page = client.get("/customers", params={"rules": rules})

    assert page.status_code == 200
    assert 'id="customer-filter"' in page.text and 'id="filter-active"' in page.text
    table = _between(page.text, 'id="customers"', "</table>")
    assert {"Orlova Anna", "Petrova Dina"} == {
        name for name in ("Orlova Anna", "Petrova Dina", "Sokolov Boris") if name in table
    }
    assert '<strong id="filter-total">2</strong> customers match the filter' in page.text
    link = re.search(r'href="/segments/new\?rules=([^"]+)" class="[^"]*" id="save-as-segment"', page.text)
    assert link is not None and json.loads(unquote(link.group(1))) == shop.rules()
    builder = client.get("/segments/new", params={"rules": rules})
    assert json.loads(_config(builder.text))["rules"] == shop.rules()
    assert json.loads(_config(builder.text))["labels"] == {
        f"category:{shop.dairy_id}": "Dairy",
        f"mailing_category:{shop.category_id}": "Promotions",
        f"audience:{shop.audience_id}": "Do not disturb",
    }


def test_the_filter_and_the_search_combine(client: UIClient, session: Session, shop: Shop) -> None:
    sign_in_as(client, session, "analyst")

    fragment = client.get(
        "/customers",
        params={"rules": json.dumps(shop.rules()), "q": "petrova"},
        headers={"HX-Request": "true", "HX-Target": "customers-table"},
    )

    assert "<html" not in fragment.text
    assert '<strong id="filter-total">1</strong> customer matches the filter' in fragment.text
    assert "save-as-segment" not in fragment.text  # analysts do not create segments


def test_an_invalid_filter_is_not_applied_and_says_why(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "marketer")
    rules = shop.rules()
    rules["root"]["children"][2]["params"] = {}

    page = client.get("/customers", params={"rules": json.dumps(rules)})

    assert "The filter was not applied" in page.text
    assert json.loads(_config(page.text, "filter"))["errors"] == {
        "root.children[2]": "“In the target audience” needs “Target audience”: choose it in the condition"
    }
    assert page.text.count('data-customer-id="') == 6


def test_an_operator_has_no_filter_and_the_rules_are_ignored(
    client: UIClient, session: Session, shop: Shop
) -> None:
    sign_in_as(client, session, "operator")

    page = client.get("/customers", params={"rules": json.dumps(shop.rules())})

    assert page.status_code == 200
    assert 'id="customer-filter"' not in page.text
    assert page.text.count('data-customer-id="') == 6


def test_the_list_runs_as_many_statements_for_many_segments_as_for_one(
    client: UIClient, session: Session, shop: Shop
) -> None:
    saved_segment(session, shop, "First")
    sign_in_as(client, session, "marketer")
    with counted_statements(session) as one:
        client.get("/segments")
    for name in ("Second", "Third", "Fourth"):
        saved_segment(session, shop, name)
    with counted_statements(session) as four:
        page = client.get("/segments")

    assert page.text.count("data-segment-id=") == 4
    assert len(four) == len(one)


# --- names and languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Dairy lovers", "dairy LOVERS", "  Dairy Lovers  "])
def test_a_second_segment_of_the_same_name_is_refused_on_the_name_field(
    client: UIClient, session: Session, shop: Shop, typed: str
) -> None:
    saved_segment(session, shop)
    sign_in_as(client, session, "marketer")
    audit_rows = session.scalar(select(func.count()).select_from(AuditEntry))

    response = post_builder(client, "/segments", typed, shop.rules())

    assert response.status_code == 409
    assert re.search(r'data-error-for="name"[^>]*>[^<]*already exists', response.text)
    assert 'class="form-control sc-title-input is-invalid"' in response.text
    assert segment_count(session) == 1
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows


def test_renaming_onto_another_segment_is_refused_but_a_segment_keeps_its_own_name(
    client: UIClient, session: Session, shop: Shop
) -> None:
    saved_segment(session, shop, "Dairy lovers")
    other = saved_segment(session, shop, "Бывшие покупатели")
    sign_in_as(client, session, "marketer")

    refused = post_builder(client, f"/segments/{other.id}/edit", "DAIRY lovers", shop.rules())
    recased = post_builder(client, f"/segments/{other.id}/edit", "БЫВШИЕ покупатели", shop.rules())

    assert refused.status_code == 409 and 'data-error-for="name"' in refused.text
    assert recased.status_code == 303
    session.refresh(other)
    assert other.name == "БЫВШИЕ покупатели"


def test_the_builder_speaks_russian_to_a_russian_speaking_marketer(
    client: UIClient, session: Session, shop: Shop
) -> None:
    user, password = make_user(session, role="marketer", language="ru")
    client.sign_in(user.email, password)
    rules = shop.rules()
    rules["root"]["children"][1]["operator"] = "gte"
    rules["root"]["children"][2]["params"] = {}

    saved = post_builder(client, "/segments", "Сломанный", rules)
    live = client.post(
        "/segments/preview",
        data={"rules": json.dumps(rules), "builder": "builder"},
        headers={"X-CSRF-Token": client.csrf, "HX-Request": "true"},
    )
    saved_segment(session, shop, "Любители молочного")
    duplicate = post_builder(client, "/segments", "любители МОЛОЧНОГО", shop.rules())

    assert json.loads(_config(saved.text))["errors"] == {
        "root.children[1]": "«≥» нельзя использовать с условием «Подписан на категорию рассылок»: "
        "выберите другое сравнение",
        "root.children[2]": "Для условия «В целевой аудитории» нужно выбрать «Целевая аудитория»",
    }
    assert "Подписан на категорию рассылок" in html.unescape(live.text)
    assert "contacts.subscribed" not in live.text and "audiences.member" not in html.unescape(live.text)
    assert "Сегмент с таким названием уже есть" in duplicate.text


@pytest.mark.parametrize(
    ("build_ms", "shown", "language"),
    [
        (17, "17 ms", "en"),
        (13, "13 мс", "ru"),
        (2_340, "2.3 s", "en"),
        (42_600, "43 s", "en"),
        (125_000, "2 min 5 s", "en"),
    ],
)
def test_build_durations_below_a_second_are_shown_in_milliseconds(
    client: UIClient, session: Session, shop: Shop, build_ms: int, shown: str, language: str
) -> None:
    # Rows as a build leaves them, written directly: no build is queued that could finish in between.
    built = utcnow()
    segment = Segment(
        name="Dairy lovers",
        rules=shop.rules(),
        last_built_at=built,
        last_build_status="done",
        last_build_ms=build_ms,
    )
    session.add(segment)
    session.flush()
    session.add(
        SegmentBuild(
            segment_id=segment.id,
            trigger="manual",
            status="done",
            started_at=built,
            finished_at=built,
            duration_ms=build_ms,
        )
    )
    session.commit()
    user, password = make_user(session, role="analyst", language=language)
    client.sign_in(user.email, password)

    listed = html.unescape(client.get("/segments").text)
    page = html.unescape(client.get(f"/segments/{segment.id}").text)

    assert shown in _row(listed, f'data-segment-id="{segment.id}"')
    assert re.search(rf'id="last-build">[^<]*{re.escape(shown)}<', page)
    assert re.search(rf"<td[^>]*>{re.escape(shown)}</td>", page)  # the table of the last builds
    assert "0.0 s" not in listed + page and "0,0 с" not in listed + page


def test_the_builder_offers_the_cart_and_the_online_store_by_their_russian_names(
    client: UIClient, session: Session
) -> None:
    user, password = make_user(session, role="marketer", language="ru")
    client.sign_in(user.email, password)

    containers = {
        option["value"]: option["label"] for option in client.get("/segments/lookup/container").json()
    }
    sources = [option["label"] for option in client.get("/segments/lookup/source").json()]

    assert "Корзина" in containers.values() and "Cart" not in containers.values()
    assert sources == ["Интернет-магазин"]
