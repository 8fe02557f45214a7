"""Several `sigil serve` instances on one PostgreSQL database behave as one; a lost database
answers 503 and recovers by itself.

Runs in scripts/test's PostgreSQL pass, on a cluster of its own (so it may stop it)."""
import concurrent.futures
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT, SIGIL, read_until

pytestmark = pytest.mark.skipif(
    not os.environ.get("SIGIL_TEST_DATABASE_URL"), reason="runs in scripts/test's PostgreSQL pass")

CLUSTER = os.path.join(ROOT, "scripts", "postgres-cluster")
BOOT_ID = "6a1e0c1e-7a55-4c55-9a55-5b1e0c1e7a55"
BOOT_SECRET = "boot8Q~two-instances-0123456789abcdefghij"


class Instance:
    def __init__(self, process, base, tenant):
        self.process, self.base, self.tenant = process, base, tenant

    def token(self, client_id=BOOT_ID, secret=BOOT_SECRET):
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default"}).encode()
        status, answer = call("POST", f"{self.base}/{self.tenant}/oauth2/v2.0/token", body=body,
                              content_type="application/x-www-form-urlencoded")
        assert status == 200, answer
        return answer["access_token"]

    def graph(self, method, path, token, body=None, headers=None):
        path = urllib.parse.quote(path, safe="/?$=&,'()%:@")
        return call(method, f"{self.base}/v1.0{path}", token=token,
                    body=None if body is None else json.dumps(body).encode(), headers=headers)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def call(method, url, token=None, body=None, content_type="application/json", headers=None):
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, json.loads(text) if text else None


def start(url, *extra):
    data = tempfile.mkdtemp(prefix="sigil-pg-instance-")
    env = dict(os.environ, CSA_BOOTSTRAP_CLIENT_ID=BOOT_ID, CSA_BOOTSTRAP_CLIENT_SECRET=BOOT_SECRET)
    process = subprocess.Popen(
        [SIGIL, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data, "--database-url", url,
         "--password-hash-rounds", "1000", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    banner = read_until(process, "Demo users sign in" if "--demo" in extra else "Token URL")
    base = re.search(r"Sigil is listening on (\S+)", banner).group(1)
    tenant = re.search(r"Tenant id:\s+(\S+)", banner).group(1)
    instance = Instance(process, base, tenant)
    instance.banner = banner
    return instance


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


def demo_manager(first):
    found = re.search(r"Demo attribute manager.*?client id:\s+(\S+).*?client secret:\s+(\S+)", first.banner, re.S)
    return found.group(1), found.group(2)


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
    client_id, secret = demo_manager(first)
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
    client_id, secret = demo_manager(first)
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
