"""The ASMS stand-in keeps its state in a file like the Text Request one (``--state``): after a
restart of ``make run`` its cases are still there and new cases continue the numbering instead
of issuing IT-1001 again (which a textdesk case linked by code alone would take for its own)."""

import shlex
from pathlib import Path

from standins.asms.backend import DEMO_TOKEN, Backend
from standins.asms.management.commands.asms_sandbox import Command
from standins.core.state import load, save

ROOT = Path(__file__).resolve().parents[2]
NEW_CASE = {"itemType": 1, "projectId": 1, "serviceId": 11, "categoryId": 111, "subject": "S"}


def test_cases_and_their_numbers_carry_on_after_a_load(tmp_path):
    before = Backend(seed="demo")
    first = before.create_case(DEMO_TOKEN, {**NEW_CASE, "subject": "Before the restart"})
    before.attach_note(DEMO_TOKEN, first["idByProject"], "A note")
    tenant = before.new_tenant("empty")["token"]
    save(before, tmp_path / "asms.state")

    after = Backend(seed="demo")
    assert load(after, tmp_path / "asms.state") is True
    kept = after.get_case(DEMO_TOKEN, first["idByProject"])
    assert (kept["id"], kept["subject"]) == (first["id"], "Before the restart")
    assert after.search(DEMO_TOKEN, {"logicOperator": "And"})  # the tenant's cases are there
    assert after.test_connection(tenant)  # and so are the tenants made later
    second = after.create_case(DEMO_TOKEN, NEW_CASE)
    assert second["id"] == first["id"] + 1
    assert second["idByProject"] != first["idByProject"]
    assert int(second["idByProject"].split("-")[1]) == int(first["idByProject"].split("-")[1]) + 1


def test_make_run_starts_the_asms_stand_in_with_a_state_file():
    line = next(
        line.split(":", 1)[1]
        for line in (ROOT / "Procfile.dev").read_text().splitlines()
        if line.startswith("asms_sandbox:")
    )
    args = shlex.split(line)
    args = args[args.index("asms_sandbox") + 1 :]
    options = vars(Command().create_parser("manage.py", "asms_sandbox").parse_args(args))
    assert options["state"] == "var/asms.state"
