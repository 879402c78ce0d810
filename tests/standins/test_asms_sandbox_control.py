"""The ASMS sandbox's control API plays the world: technicians moving and solving cases,
faults, counters, tenants that never see each other, reset, and search semantics."""

from datetime import UTC, datetime, timedelta

import pytest

from standins.asms.backend import DEMO_TOKEN, Backend
from standins.asms.testing import AsmsSandboxControlError

NEW_CASE = {"itemType": 1, "projectId": 1, "serviceId": 11, "categoryId": 111, "subject": "S"}


def create(tenant, **extra):
    response = tenant.call("POST", "/case", json={**NEW_CASE, **extra})
    assert response.status_code == 200, response.text
    return response.json()["idByProject"]


def test_a_technician_solves_a_case_with_a_solution(asms_tenant):
    code = create(asms_tenant, groupId=31)
    with pytest.raises(AsmsSandboxControlError) as caught:
        asms_tenant.control.move(asms_tenant.token, code, "Solved")
    assert caught.value.status == 400  # a solution is required
    asms_tenant.control.move(asms_tenant.token, code, "Solved", "Replaced the toner", 42)
    case = asms_tenant.call("GET", f"/case/{code}").json()
    assert (case["stateName"], case["commentary"], case["responsibleName"]) == (
        "Solved",
        "Replaced the toner",
        "Lee Park",
    )
    asms_tenant.control.move(asms_tenant.token, code, "Closed")
    assert asms_tenant.call("GET", f"/case/{code}").json()["isClosed"] is True


def test_tenants_are_isolated_and_counters_count_calls_per_operation(asms_server, asms_tenant):
    from standins.asms.pytest_fixtures import make_tenant

    other = make_tenant(asms_server)
    code = create(asms_tenant)
    assert other.call("GET", f"/case/{code}").status_code == 404
    asms_tenant.call("GET", f"/case/{code}")
    counters = asms_tenant.counters()
    assert counters["calls"] == {"CreateCase": 1, "GetCase": 1}
    assert counters["cases_created"] == 1
    assert other.counters()["calls"] == {"GetCase": 1}


def test_faults_can_target_one_operation_of_one_tenant(asms_tenant):
    asms_tenant.control.set_faults(
        token=asms_tenant.token, error_rate=1.0, operations=["CreateCase"]
    )
    assert asms_tenant.call("POST", "/case", json=NEW_CASE).status_code == 500
    assert asms_tenant.call("GET", "/connection").status_code == 200
    asms_tenant.control.set_faults(token=asms_tenant.token, outage=True)
    assert asms_tenant.call("GET", "/connection").status_code == 503
    asms_tenant.control.clear_faults(asms_tenant.token)
    assert asms_tenant.call("GET", "/connection").status_code == 200
    with pytest.raises(AsmsSandboxControlError):
        asms_tenant.control.set_faults(error_rate=2)


def test_search_dates_compare_as_instants_and_ids_as_numbers(asms_tenant):
    code = create(asms_tenant)
    before = (datetime.now(UTC) - timedelta(hours=1)).astimezone().isoformat()

    def search(field, operator, value):
        one = {"field": field, "operator": operator, "value": value}
        body = {"logicOperator": "And", "filters": [one]}
        return [c["idByProject"] for c in asms_tenant.call("POST", "/case/list", json=body).json()]

    assert search("OpenedDate", "GreaterThan", before) == [code]
    assert search("OpenedDate", "LessThan", before) == []
    assert search("ServiceId", "EqualTo", "11") == [code]
    assert search("ServiceId", "NotEqualTo", "11") == []


def test_reset_brings_back_the_demo_tenant_and_forgets_the_rest():
    backend = Backend(seed="demo")
    token = backend.new_tenant()["token"]
    codes = [c["idByProject"] for c in backend.sandbox_cases(DEMO_TOKEN)]
    assert codes == ["IT-1001", "FA-1001"]
    backend.reset()
    assert token not in backend.tenants
    assert [c["idByProject"] for c in backend.sandbox_cases(DEMO_TOKEN)] == codes
    assert Backend(seed="demo").sandbox_cases(DEMO_TOKEN)[0]["id"] == 5001  # reproducible ids
