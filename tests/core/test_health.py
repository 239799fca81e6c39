"""GET /healthz tells the PaaS whether the database and the broker are reachable."""

from __future__ import annotations


def test_healthz_reports_ok_when_everything_is_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    db = client.app_state["db"]

    class Broken:
        async def __aenter__(self):  # type: ignore[no-untyped-def]
            raise OSError("connection refused")

        async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

    monkeypatch.setattr(db, "session", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_healthz_is_503_when_the_broker_cannot_carry_updates(client, monkeypatch):
    async def down() -> bool:
        return False

    monkeypatch.setattr(client.app_state["broker"], "healthy", down)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"] == "unavailable"
