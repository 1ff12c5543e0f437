from tests.conftest import UIClient


def test_login_page_renders(client: UIClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert "Sign in to your account" in response.text


def test_admin_lands_on_the_dashboard(admin_client: UIClient) -> None:
    response = admin_client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    page = admin_client.get("/settings/users")
    assert page.status_code == 200
    assert "boss@example.com" in page.text
