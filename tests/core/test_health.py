"""``/healthz``: 200 "ok" in plain text, never cached, no session and no database (the test has no
database access: a query would fail it)."""

from django.urls import reverse


def test_healthz_answers_ok_without_database_or_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    assert reverse("healthz") == "/healthz"


def test_healthz_answers_head_and_refuses_post(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
