from __future__ import annotations

import pytest

import benchlearning


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_version(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "not configured",
        "version": benchlearning.__version__,
    }


@pytest.mark.django_db
def test_healthz_is_degraded_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "error"
