"""Configuration from the environment: safe defaults, loud failures, a clean deploy check."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "portal.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"DEBUG is off, so these environment variables are required: {missing}" in result.stderr


def test_a_bad_boolean_is_a_clear_error():
    result = manage("check", env={**PRODUCTION, "DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_database_url_selects_the_engine():
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    pg = manage(
        "shell", "--no-imports", "-c", code, env={"DEBUG": "1", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    )
    assert pg.stdout.strip() == "django.db.backends.postgresql"
    default = manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1", "DATABASE_URL": ""})
    assert default.stdout.strip() == "django.db.backends.sqlite3"


def test_no_broker_means_tasks_run_in_process():
    code = "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)"
    assert (
        manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1", "CELERY_BROKER_URL": ""}).stdout.strip()
        == "True"
    )
    with_broker = manage(
        "shell", "--no-imports", "-c", code, env={"DEBUG": "1", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    )
    assert with_broker.stdout.strip() == "False"


def test_the_map_uses_the_shipped_boundaries_unless_the_environment_says_otherwise():
    code = (
        "from django.conf import settings; "
        "print(repr(settings.COMPARISON_BOUNDARIES_GEOJSON), settings.COMPARISON_BOUNDARIES_CODE_PROPERTY)"
    )
    default = manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1"})
    shipped = ROOT / "data" / "boundaries" / "lv_municipalities_2021_43_approx.geojson"
    assert default.stdout.split() == [repr(str(shipped)), "atvk_code"]
    assert shipped.is_file()
    empty = manage("shell", "--no-imports", "-c", code, env={"DEBUG": "1", "COMPARISON_BOUNDARIES_GEOJSON": ""})
    assert empty.stdout.split() == ["''", "atvk_code"]  # an empty value: the grid map


def test_recompute_runs_go_to_their_own_queue_when_the_environment_names_one():
    """Workers on other hosts consume that queue (docs/architecture.md, "Workers on more than one machine")."""
    code = (
        "from benchlearning.celery import app; print(*(app.amqp.router.route({}, name)['queue'].name for name in "
        "('comparisons.tasks.recompute_run_task', 'comparisons.tasks.recompute_all_task', "
        "'indicators.tasks.deadline_reminders_send')))"
    )
    env = {"DEBUG": "1", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    named = manage("shell", "--no-imports", "-c", code, env={**env, "RECOMPUTE_QUEUE": "recompute"})
    # The runs go to `recompute`; the nightly request and the reminders stay on the default queue.
    assert named.stdout.split() == ["recompute", "celery", "celery"], named.stderr
    default = manage("shell", "--no-imports", "-c", code, env={**env, "RECOMPUTE_QUEUE": ""})
    assert default.stdout.split() == ["celery", "celery", "celery"], default.stderr


def test_make_worker_consumes_the_recompute_queue_and_a_second_host_runs_no_beat():
    def worker(*variables: str) -> str:
        env = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "RECOMPUTE_QUEUE": "recompute"}
        make = shutil.which("make") or "/usr/bin/make"
        result = subprocess.run(  # noqa: S603 - make -n only prints the commands
            [make, "-n", "worker", *variables], capture_output=True, text=True, cwd=ROOT, env=env, check=True
        )
        return " ".join(result.stdout.replace("\\\n", " ").split())

    first = worker()
    assert "worker --beat" in first and "-Q celery,recompute" in first
    second = worker("WORKER_BEAT=", "WORKER_QUEUES=recompute")
    assert "--beat" not in second and "-Q recompute" in second
