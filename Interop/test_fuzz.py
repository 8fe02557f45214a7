"""Schemathesis fuzzes a live `sigil serve` from the OpenAPI document it serves.

Every operation gets generated requests, valid and invalid (fixed seed, bounded count), in the
examples, coverage, fuzzing and stateful phases; each reply must be no 5xx, have a documented
status and content type, match the documented schema, and every request that breaks the document
(a wrong type, a missing required property, an undeclared property, a value out of range) must be
refused with a 4xx, so nothing the document forbids is accepted and written.

Three passes, each on its own server: the demo attribute manager (Attribute Definition, Assignment
and Log Administrator); an administrator that holds those roles as well as Global Administrator
and Privileged Role Administrator, so every write path is reached; and a demo user without roles
(a user token, the only kind /me serves, and the refusals a member meets)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import pytest

from sigil_server import SigilServer, call

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_ID = "f022c0de-5e1d-4c1a-9e55-0a11f022c0de"
BOOT_SECRET = "boot8Q~fuzzing-0123456789abcdefghijklmnop"
DEMO_PASSWORD = "Sigil-demo-2026!"
SEED = int(os.environ.get("SIGIL_FUZZ_SEED", "20261130"))
# Test cases per operation and phase: enough to reach every operation's checks, bounded so a pass
# takes about a minute on the debug build.
MAX_EXAMPLES = int(os.environ.get("SIGIL_FUZZ_EXAMPLES", "50"))
CHECKS = ",".join([
    "not_a_server_error", "status_code_conformance", "content_type_conformance",
    "response_schema_conformance", "negative_data_rejection"])
ROLES = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Attribute Definition Administrator": "8424c6f0-a189-499e-bbd0-26c1753c96d4",
    "Attribute Assignment Administrator": "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d",
    "Attribute Log Administrator": "5b784334-f94b-471a-a387-e7219fc49ca2",
}


def start_server():
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = None
    if database:
        url = f"{database}{'&' if '?' in database else '?'}schema=fuzz_{os.getpid()}_{time.monotonic_ns()}"
    return SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)


def ok(answer, status=(200, 201)):
    code, body = answer
    assert code in ((status,) if isinstance(status, int) else status), body
    return body


def principal_ids(server, token, app_id):
    """The object ids of an application and its service principal, and its role assignments."""
    app = ok(server.graph("GET", f"/applications?$filter=appId eq '{app_id}'", token))["value"][0]
    principal = ok(server.graph("GET", f"/servicePrincipals?$filter=appId eq '{app_id}'", token))["value"][0]
    assignments = ok(server.graph(
        "GET", f"/roleManagement/directory/roleAssignments?$filter=principalId eq '{principal['id']}'", token))["value"]
    return [app["id"], principal["id"], *[a["id"] for a in assignments]]


def administrator(server, boot_token):
    """A new application whose service principal holds every role in ROLES; (token, ids to protect)."""
    app = ok(server.graph("POST", "/applications", boot_token, {"displayName": "Fuzzing administrator"}))
    secret = ok(server.graph("POST", f"/applications/{app['id']}/addPassword", boot_token, {}))["secretText"]
    principal = ok(server.graph("POST", "/servicePrincipals", boot_token, {"appId": app["appId"]}))
    for role in ROLES.values():
        ok(server.graph("POST", "/roleManagement/directory/roleAssignments", boot_token, {
            "principalId": principal["id"], "roleDefinitionId": role, "directoryScopeId": "/"}))
    return server.token(app["appId"], secret), principal_ids(server, boot_token, app["appId"])


def member_token(server, user_principal_name):
    """A demo user's token (password grant): a member without roles, the only kind of caller /me serves."""
    body = urllib.parse.urlencode({
        "grant_type": "password", "client_id": BOOT_ID, "username": user_principal_name,
        "password": DEMO_PASSWORD, "scope": "https://graph.microsoft.com/.default"}).encode()
    token = ok(call("POST", f"{server.base}/{server.tenant}/oauth2/v2.0/token", body=body,
                    content_type="application/x-www-form-urlencoded"), 200)["access_token"]
    me = ok(server.graph("GET", "/me?$select=id", token), 200)
    return token, [me["id"]]


def fuzz(server, token, protected, label, capsys):
    """Runs Schemathesis against `server` as the holder of `token`; returns the JSON run report."""
    reports = tempfile.mkdtemp(prefix="sigil-fuzz-")
    command = [
        os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", f"{server.base}/openapi.yaml",
        "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--generation-database", "none", "--request-timeout", "30", "--no-color",
        "--report", "json", "--report-dir", reports]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_hooks", PYTHONPATH=HERE, SIGIL_FUZZ_PROTECTED=",".join(protected))
    started = time.monotonic()
    # Run in the report directory: Schemathesis keeps a crash cache under its working directory,
    # which would otherwise land in the source tree and replay old cases in later runs.
    run = subprocess.run(command, env=env, cwd=reports, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - started
    files = [name for name in os.listdir(reports) if name.endswith(".json")]
    assert files, f"Schemathesis wrote no report (exit {run.returncode}):\n{run.stdout[-20000:]}\n{run.stderr[-5000:]}"
    with open(os.path.join(reports, files[0])) as file:
        report = json.load(file)
    cases = report["test_cases"]["generated"]
    with capsys.disabled():
        print(f"\n{label}: {cases} cases over {report['operations']['tested']} operations in {elapsed:.0f} s "
              f"(seed {SEED}, at most {MAX_EXAMPLES} per operation and phase), "
              f"{len(report['failures'])} failures, {len(report['errors'])} errors")
    assert run.returncode == 0 and not report["failures"] and not report["errors"], \
        f"report kept in {reports}\n{run.stdout[-30000:]}"
    assert report["operations"]["tested"] == report["operations"]["selected"]
    # A passing run's report has been read; only a failing run's stays for inspection.
    shutil.rmtree(reports, ignore_errors=True)
    return report


@pytest.fixture
def server():
    running = start_server()
    yield running
    running.stop()


def test_fuzz_as_attribute_manager(server, capsys):
    manager_id, manager_secret = server.demo_manager()
    boot_token = server.token()
    protected = principal_ids(server, boot_token, manager_id) + principal_ids(server, boot_token, BOOT_ID)
    fuzz(server, server.token(manager_id, manager_secret), protected, "attribute manager", capsys)


def test_fuzz_as_administrator(server, capsys):
    boot_token = server.token()
    token, protected = administrator(server, boot_token)
    protected += principal_ids(server, boot_token, BOOT_ID)
    fuzz(server, token, protected, "administrator", capsys)


def test_fuzz_as_member_user(server, capsys):
    boot_token = server.token()
    token, protected = member_token(server, "jana@sigil.local")
    protected += principal_ids(server, boot_token, BOOT_ID)
    fuzz(server, token, protected, "member user", capsys)
