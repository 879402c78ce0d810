"""docker/compose.yaml runs what .ci/production-smoke runs (Docker cannot run here, so its
structure is checked): the Procfile's processes after a finished migrate, DEBUG off for textdesk,
the stand-ins only in the `demo` profile and only there in development mode."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP = ("web", "interactive", "sync", "beat")
STANDINS = ("sandbox", "asms-sandbox")


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = dict(line.split(": ", 1) for line in lines if re.match(r"^\w+: ", line))
    # ${VAR:-default} as compose pins it
    return {
        name: shlex.split(re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command))
        for name, command in entries.items()
    }


def test_every_process_waits_for_a_finished_migrate(services):
    for name in (*APP, "demo-connect"):
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
    for name in APP:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
    migrate = services["migrate"]
    assert "migrate" not in migrate["depends_on"]
    assert migrate["restart"] == "no"


def test_the_processes_are_the_procfiles(services):
    expected = procfile()
    assert services["migrate"]["command"] == expected["release"]
    for name in ("interactive", "sync", "beat"):
        assert services[name]["command"] == expected[name], name
    web = services["web"]["command"]
    assert web[:2] == expected["web"][:2] == ["gunicorn", "textdesk.wsgi"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_textdesk_runs_with_debug_off_and_its_secrets_required(services):
    for name in (*APP, "migrate", "demo-connect"):
        env = services[name]["environment"]
        assert "DEBUG" not in env, name
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), name
        assert env["FIELD_ENCRYPTION_KEY"].startswith("${FIELD_ENCRYPTION_KEY:?"), name
        assert "profiles" not in services[name] or name == "demo-connect"


def test_the_standins_are_the_demo_profile_in_development_mode(services):
    for name in (*STANDINS, "demo-connect"):
        assert services[name]["profiles"] == ["demo"], name
    for name in STANDINS:
        assert services[name]["environment"]["DEBUG"] == "1", name
        assert "SECRET_KEY" not in services[name]["environment"], name
        assert services[name]["healthcheck"], name
    assert services["sandbox"]["command"][2:4] == ["sandbox", "serve"]
    assert services["asms-sandbox"]["command"][2:4] == ["asms_sandbox", "serve"]
    connect = " ".join(services["demo-connect"]["command"])
    assert "textrequest connect" in connect and "http://sandbox:8001/api/v3" in connect
    assert "service_desk connect" in connect and "http://asms-sandbox:8002" in connect
    for name in STANDINS:
        assert services["demo-connect"]["depends_on"][name] == {"condition": "service_healthy"}


def test_the_demo_keys_are_the_standins(services):
    connect = " ".join(services["demo-connect"]["command"])
    for path, name in (
        ("standins/textrequest/backend.py", "DEMO_API_KEY"),
        ("standins/asms/backend.py", "DEMO_TOKEN"),
    ):
        key = re.search(rf'^{name} = "([^"]+)"', (ROOT / path).read_text(), re.M).group(1)
        assert key in connect, name
