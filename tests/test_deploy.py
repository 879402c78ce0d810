"""Production settings pass Django's deployment checks without a single warning."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

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
