"""Several `sigil serve` instances on one PostgreSQL database behave as one; a lost database
answers 503 and recovers by itself.

Runs in scripts/test's PostgreSQL pass, on a cluster of its own (so it may stop it)."""
import concurrent.futures
import os
import re
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from sigil_server import CLUSTER, SigilServer

pytestmark = pytest.mark.skipif(
    not os.environ.get("SIGIL_TEST_DATABASE_URL"), reason="runs in scripts/test's PostgreSQL pass")

BOOT_ID = "6a1e0c1e-7a55-4c55-9a55-5b1e0c1e7a55"
BOOT_SECRET = "boot8Q~two-instances-0123456789abcdefghij"


def start(url, *extra):
    return SigilServer(url, *extra, boot_id=BOOT_ID, boot_secret=BOOT_SECRET)


@pytest.fixture(scope="module")
def cluster():
    directory = tempfile.mktemp(prefix="sigil-pg-outage-")
    url = subprocess.run([CLUSTER, "start", directory], check=True, capture_output=True, text=True).stdout.strip()
    yield directory, url
    subprocess.run([CLUSTER, "stop", directory], check=False)


@pytest.fixture(scope="module")
def pair(cluster):
    _, url = cluster
    first = start(url, "--demo")
    second = start(url)
    yield first, second
    first.stop()
    second.stop()


def test_both_instances_serve_one_tenant(pair):
    first, second = pair
    assert first.tenant == second.tenant
    # A token from one instance is accepted by the other: the signing key lives in the database.
    token = first.token()
    status, users = second.graph("GET", "/users?$select=id,displayName", token)
    assert status == 200, users
    assert {"Chandra", "Jana", "Joe"} <= {u["displayName"] for u in users["value"]}
    # Written through one, read through the other.
    status, created = first.graph("POST", "/users", token, {
        "accountEnabled": True, "displayName": "Two Instances", "mailNickname": "twoinstances",
        "userPrincipalName": "two.instances@sigil.local",
        "passwordProfile": {"password": "Two-Instances-2026!"}})
    assert status == 201, created
    status, read = second.graph("GET", f"/users/{created['id']}", second.token())
    assert status == 200 and read["displayName"] == "Two Instances"


def test_a_role_removed_on_one_instance_stops_working_on_the_other(pair):
    first, second = pair
    admin = first.token()
    client_id, secret = first.demo_manager()
    manager = second.token(client_id, secret)
    status, _ = second.graph("GET", "/directory/attributeSets", manager)
    assert status == 200  # and now cached on the second instance
    status, principals = first.graph("GET", f"/servicePrincipals?$filter=appId eq '{client_id}'", admin)
    principal = principals["value"][0]["id"]
    status, assignments = first.graph(
        "GET", f"/roleManagement/directory/roleAssignments?$filter=principalId eq '{principal}'", admin)
    assert status == 200, assignments
    for assignment in assignments["value"]:
        status, _ = first.graph("DELETE", f"/roleManagement/directory/roleAssignments/{assignment['id']}", admin)
        assert status == 204
    status, denied = second.graph("GET", "/directory/attributeSets", manager)
    assert status == 403, denied
    for assignment in assignments["value"]:
        status, _ = first.graph("POST", "/roleManagement/directory/roleAssignments", admin, {
            "principalId": principal, "roleDefinitionId": assignment["roleDefinitionId"], "directoryScopeId": "/"})
        assert status == 201
    status, _ = second.graph("GET", "/directory/attributeSets", manager)
    assert status == 200


def test_interleaved_patches_through_two_instances_lose_nothing(pair):
    first, second = pair
    client_id, secret = first.demo_manager()
    tokens = (first.token(client_id, secret), second.token(client_id, secret))
    status, users = first.graph("GET", "/users?$filter=startsWith(displayName,'Joe')", first.token())
    joe = users["value"][0]["id"]
    odata = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"

    def patch(side, i):
        instance, token = (first, tokens[0]) if side == 0 else (second, tokens[1])
        body = ({"Engineering": {"@odata.type": odata, "ProjectDate": f"2026-01-{i:03d}"}} if side == 0
                else {"Marketing": {"@odata.type": odata, "EmployeeId": f"E{i:03d}"}})
        status, answer = instance.graph("PATCH", f"/users/{joe}", token, {"customSecurityAttributes": body})
        assert status == 204, answer

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: patch(*job), [(side, i) for i in range(100) for side in (0, 1)]))
    # Each attribute ends at its own last value; the last write to each side is i = 99, but
    # threads may finish out of order, so read what each side's final writer set through both.
    for instance, token in ((first, tokens[0]), (second, tokens[1])):
        status, user = instance.graph("GET", f"/users/{joe}?$select=customSecurityAttributes", token)
        assert status == 200, user
        values = user["customSecurityAttributes"]
        project_date = values["Engineering"]["ProjectDate"]
        employee_id = values["Marketing"]["EmployeeId"]
        assert re.fullmatch(r"2026-01-\d{3}", project_date)
        assert re.fullmatch(r"E\d{3}", employee_id)
        # The other attributes Joe held before are untouched.
        assert "Project" in values["Engineering"]
    # The maintained counts agree with the values: exactly one user holds each final value.
    for attribute, value in (("Engineering/ProjectDate", project_date), ("Marketing/EmployeeId", employee_id)):
        status, count = first.graph(
            "GET", "/users/$count?$filter=" + urllib.parse.quote(f"customSecurityAttributes/{attribute} eq '{value}'"),
            tokens[0], headers={"ConsistencyLevel": "eventual"})
        assert status == 200 and count == 1, (attribute, value, count)


def test_a_lost_database_answers_503_and_recovers(cluster, pair):
    directory, _ = cluster
    first, _ = pair
    token = first.token()
    subprocess.run([CLUSTER, "pause", directory], check=True)
    try:
        status, answer = first.graph("GET", "/users?$top=1", token)
        assert status == 503, answer
        assert answer["error"]["code"] == "serviceNotAvailable"
        assert "database" in answer["error"]["message"]
        status, answer = first.graph("PATCH", "/directory/attributeSets/Engineering", token, {"description": "x"})
        assert status == 503, answer
    finally:
        subprocess.run([CLUSTER, "resume", directory], check=True)
    deadline = time.time() + 30
    while True:
        status, answer = first.graph("GET", "/users?$top=1", token)
        if status == 200 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert status == 200, answer
