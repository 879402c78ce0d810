"""Production settings pass Django's deployment checks without a single warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "SECRET_KEY": "x7#Lq2!vR9@pZ4$kW8^mN3&bT6*yH1(cJ5)dF0_gS-eA+uQ=iO",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "textdesk.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://textdesk.example.com",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "TEXTDESK_PUBLIC_URL": "https://textdesk.example.com",
}


def manage(*args, env):
    # Only what a deployment sets: nothing leaked from the test process (DEBUG, async flags).
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "TEXTDESK_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_an_encryption_key(tmp_path):
    env = {**PRODUCTION, "FIELD_ENCRYPTION_KEY": "", "TEXTDESK_STATE_DIR": str(tmp_path)}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr


def test_without_a_secret_key_it_refuses_to_start_rather_than_run_in_debug(tmp_path):
    env = {"FIELD_ENCRYPTION_KEY": PRODUCTION["FIELD_ENCRYPTION_KEY"],
           "TEXTDESK_STATE_DIR": str(tmp_path)}  # fmt: skip
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_development_is_asked_for_with_debug(tmp_path):
    result = manage("check", env={"DEBUG": "1", "TEXTDESK_STATE_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sandbox_is_not_installed_in_production(tmp_path):
    for command in ("sandbox", "asms_sandbox"):
        result = manage(command, "--help", env={**PRODUCTION, "TEXTDESK_STATE_DIR": str(tmp_path)})
        assert result.returncode != 0
        assert f"Unknown command: '{command}'" in result.stderr
    development = manage(
        "sandbox", "--help", env={"DEBUG": "1", "TEXTDESK_STATE_DIR": str(tmp_path)}
    )
    assert development.returncode == 0, development.stderr


def test_demo_commands_refuse_in_production(tmp_path):
    env = {**PRODUCTION, "TEXTDESK_STATE_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}"}  # fmt: skip
    for command in ("demo_users", "demo_setup"):
        result = manage(command, env=env)
        assert result.returncode != 0
        assert "Demo users are for development only" in result.stderr
    assert (
        not (tmp_path / "prod.sqlite3").exists() or (tmp_path / "prod.sqlite3").stat().st_size == 0
    )


def test_demo_users_are_made_only_in_development(db, settings):
    from django.core.management import CommandError, call_command

    from textdesk.accounts.models import User

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_users")
    assert not User.objects.exists()
    settings.DEBUG = True
    call_command("demo_users")
    assert set(User.objects.values_list("username", flat=True)) == {"admin", "agent", "finance"}
