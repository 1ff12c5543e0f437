"""Settings → Design: saved for the public pages, checked, previewed before saving."""

from __future__ import annotations

from sqlalchemy.orm import Session

from smartcomm.settings.schemas import DesignSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _designer(client: UIClient, session: Session) -> UIClient:
    user, password = make_user(session, role="designer")
    session.commit()
    client.sign_in(user.email, password)
    return client


def test_a_designer_saves_colours_texts_and_a_logo(client: UIClient, session: Session) -> None:
    designer = _designer(client, session)
    page = designer.get("/settings/design")
    assert page.status_code == 200 and 'id="design-preview"' in page.text
    form = {"primary_color": "#0f9d58", "background_color": "#ffffff", "text_color": "#202124",
            "thanks_title_ru": "Спасибо, что вы с нами", "unsubscribe_title_en": ""}  # fmt: skip
    response = designer.post(
        "/settings/design",
        data=form | {"csrf_token": designer.csrf},
        files={"logo": ("logo.png", PNG, "image/png")},
    )
    assert response.status_code == 303
    saved = settings_service.read(session, DesignSettings)
    assert (saved.primary_color, saved.thanks_title_ru, saved.unsubscribe_title_en) == (
        "#0f9d58",
        "Спасибо, что вы с нами",
        None,
    )
    assert saved.logo_file_id is not None


def test_a_colour_that_is_not_a_colour_is_refused_and_nothing_saved(
    client: UIClient, session: Session
) -> None:
    designer = _designer(client, session)
    form = {"primary_color": "red; background:url(x)", "background_color": "#ffffff", "text_color": "#000000"}
    response = designer.submit("/settings/design", form)
    assert response.status_code == 422
    assert 'data-error-for="primary_color"' in response.text
    assert settings_service.read(session, DesignSettings) == DesignSettings()


def test_the_preview_shows_unsaved_values_and_may_only_be_framed_by_this_site(
    client: UIClient, session: Session
) -> None:
    designer = _designer(client, session)
    url = (
        "/settings/design/preview?page=preferences&lang=ru"
        "&primary_color=%23aa00ff&preferences_title_ru=Ваши+письма"
    )
    response = designer.get(url)
    assert response.status_code == 200
    assert "--brand:#aa00ff" in response.text and "Ваши письма" in response.text
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    ignored = designer.get("/settings/design/preview?primary_color=javascript:alert(1)")
    assert "javascript" not in ignored.text  # an invalid value is left out, the saved one shown
    assert settings_service.read(session, DesignSettings) == DesignSettings()


def test_a_marketer_may_not_change_the_design(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="marketer")
    session.commit()
    client.sign_in(user.email, password)
    assert client.get("/settings/design").status_code == 403
    assert client.submit("/settings/design", {"primary_color": "#000000"}).status_code == 403
