"""The `sigil` command line against a running server: login, whoami, the seed's assignment flows
(set, show, filter with ==, != and starts-with, unset), JSON output, exit statuses, where the
credentials file lives, `--version` and the User-Agent every request carries."""
import http.server
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import uuid

import pytest

from conftest import ROOT, SIGIL
from sigil_server import SigilServer

VERSION = re.search(r'current = "([^"]+)"', open(os.path.join(ROOT, "Sources", "SigilClient", "Version.swift")).read()).group(1)

BOOT_ID = str(uuid.uuid4())
BOOT_SECRET = "boot8Q~cli-tests-0123456789abcdefghijklmno"


@pytest.fixture(scope="module")
def server():
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    # A schema per module that uses this fixture (test_cli_access imports it): a second server on a
    # schema the demo already filled would print no demo credentials.
    url = f"{database}{'&' if '?' in database else '?'}schema=cli_{uuid.uuid4().hex}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    yield server
    server.stop()


@pytest.fixture
def cli(server):
    home = tempfile.mkdtemp(prefix="sigil-cli-home-")
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(home, "config"), HOME=home)

    def run(*args, check_status=0):
        result = subprocess.run([SIGIL, *args], capture_output=True, text=True, env=env, timeout=60)
        if check_status is not None:
            assert result.returncode == check_status, result.stdout + result.stderr
        return result

    run.home = home
    yield run
    shutil.rmtree(home, ignore_errors=True)


def test_seed_flows_from_the_command_line(server, cli):
    client_id, secret = server.demo_manager()
    signed = cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    assert "Signed in" in signed.stdout
    credentials = os.path.join(cli.home, "config", "sigil", "credentials.json")
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600
    assert client_id in cli("whoami").stdout

    # Seed 002's Update-MgUser example, typed by the definitions (4 is an Int32, true a Boolean).
    cli("user", "set", "chandra@sigil.local", "Engineering.ProjectDate=2024-11-15", "Engineering.Project=Baker,Cascade",
        "Engineering.NumVendors=4", "Engineering.Certification=true")
    shown = json.loads(cli("user", "show", "chandra@sigil.local", "--output", "json").stdout)
    engineering = shown["customSecurityAttributes"]["Engineering"]
    assert engineering["ProjectDate"] == "2024-11-15"
    assert engineering["Project"] == ["Baker", "Cascade"]
    assert engineering["NumVendors"] == 4
    assert engineering["Certification"] is True
    table = cli("user", "show", "chandra@sigil.local").stdout
    assert re.search(r"^Engineering +Project +Baker, Cascade$", table, re.M), table

    def names(*args):
        return sorted(item["displayName"] for item in json.loads(cli("users", "list", *args, "--output", "json").stdout))

    assert names("--filter", "Marketing.AppCountry == Canada") == ["Jana", "Jiya"]
    assert "Jana" not in names("--filter", "Marketing.AppCountry != Canada")
    assert names("--filter", "Marketing.EmployeeId starts-with GS") == ["Chandra", "Jana", "Joe"]
    assert names("--filter", "Engineering.NumVendors == 4") == ["Chandra"]
    assert names("--odata-filter", "customSecurityAttributes/Engineering/Certification eq true") == ["Chandra"]
    listed = cli("users", "list", "--filter", "Engineering.NumVendors == 4").stdout
    assert "DISPLAY NAME" in listed and "1 users" in listed

    cli("user", "unset", "chandra@sigil.local", "Engineering.ProjectDate", "Engineering.Project")
    after = json.loads(cli("user", "show", "chandra@sigil.local", "--output", "json").stdout)
    assert "ProjectDate" not in after["customSecurityAttributes"]["Engineering"]
    assert "Project" not in after["customSecurityAttributes"]["Engineering"]

    # Service principals, the same way (the bootstrap application's: no principal sets its own).
    apps = json.loads(cli("apps", "list", "--output", "json").stdout)
    target = next(app for app in apps if app["appId"] == BOOT_ID)
    cli("app", "set", target["id"], "Marketing.EmployeeId=APP-7")
    assert [app["id"] for app in json.loads(
        cli("apps", "list", "--filter", "Marketing.EmployeeId == APP-7", "--output", "json").stdout)] == [target["id"]]
    # An application's appId names its service principal, as a user principal name names a user.
    cli("app", "set", BOOT_ID, "Marketing.EmployeeId=APP-8")
    by_app_id = json.loads(cli("app", "show", BOOT_ID, "--output", "json").stdout)
    assert by_app_id["id"] == target["id"] and by_app_id["customSecurityAttributes"]["Marketing"]["EmployeeId"] == "APP-8"
    assert "APP-8" in cli("app", "show", target["id"]).stdout
    cli("app", "unset", BOOT_ID, "Marketing.EmployeeId")
    unset = json.loads(cli("app", "show", target["id"], "--output", "json").stdout)
    assert "EmployeeId" not in ((unset.get("customSecurityAttributes") or {}).get("Marketing") or {})
    assert "Request_ResourceNotFound" in cli("app", "show", str(uuid.uuid4()), check_status=1).stderr


def test_errors_and_exit_statuses(server, cli):
    assert cli("whoami", check_status=1).stderr.startswith("sigil: not signed in")
    client_id, secret = server.demo_manager()
    wrong = cli("login", "--server", server.base, "--client-id", client_id, "--client-secret", "wrong", check_status=1)
    assert "invalid_client" in wrong.stderr or "AADSTS" in wrong.stderr
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    # Types come from the definitions: a word for an Integer is refused before anything is sent.
    typed = cli("user", "set", "joe@sigil.local", "Engineering.NumVendors=four", check_status=2)
    assert "takes whole numbers" in typed.stderr
    assert "no attribute 'Nope'" in cli("user", "set", "joe@sigil.local", "Engineering.Nope=1", check_status=2).stderr
    assert "Set.Attribute=value" in cli("user", "set", "joe@sigil.local", "Engineering", check_status=2).stderr
    # The server's own refusal: a value outside the predefined ones.
    refused = cli("user", "set", "joe@sigil.local", "Engineering.Project=Denali", check_status=1)
    assert "Denali" in refused.stderr and "400" in refused.stderr
    assert "Request_ResourceNotFound" in cli("user", "show", str(uuid.uuid4()), check_status=1).stderr
    assert cli("users", "list", "--filter", "Marketing.AppCountry ~ x", check_status=2).stderr.startswith("sigil: The operator")
    cli("logout")
    cli("whoami", check_status=1)


@pytest.mark.parametrize("args, message", [
    (["users", "list", "--bogus"], "Unknown option '--bogus'"),
    (["attribute-set", "create"], "Missing expected argument '<id>'"),
    (["no-such-command"], "Unexpected argument 'no-such-command'"),
    (["users", "list", "--output", "xml"], "--output must be table or json"),
    (["attribute-set", "create", "Finance", "--max", "ten"], "--max"),
    (["audit", "export", "--format", "csv"], "--format must be jsonl"),
    (["keys", "list", "--database-url", "http://example.com/sigil"], "--database-url must be a postgres:// URL"),
])
def test_usage_errors_exit_2(cli, args, message):
    """ArgumentParser's own refusals end with 2, as the typed-value refusals do, not its default 64."""
    result = cli(*args, check_status=2)
    assert message in result.stderr and result.stdout == ""


def test_credentials_file_follows_xdg_config_home_then_home(tmp_path):
    home, config = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    base = {name: value for name, value in os.environ.items() if name not in ("HOME", "XDG_CONFIG_HOME")}
    with FakeGraph() as fake:
        def login(**env):
            result = subprocess.run([SIGIL, "login", "--server", fake.base, "--client-id", "app", "--client-secret", "s"],
                                    capture_output=True, text=True, env=dict(base, **env), timeout=60)
            assert result.returncode == 0, result.stderr

        def modes(path):
            return stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)

        login(HOME=str(home), XDG_CONFIG_HOME=str(config))
        assert modes(config / "sigil" / "credentials.json") == (0o600, 0o700)
        assert not (home / ".config").exists()
        # Without XDG_CONFIG_HOME (or with it empty), $HOME, not the account's home directory.
        login(HOME=str(home))
        assert modes(home / ".config" / "sigil" / "credentials.json") == (0o600, 0o700)
        os.remove(home / ".config" / "sigil" / "credentials.json")
        login(HOME=str(home), XDG_CONFIG_HOME="")
        assert modes(home / ".config" / "sigil" / "credentials.json") == (0o600, 0o700)
        assert json.loads((home / ".config" / "sigil" / "credentials.json").read_text())["server"] == fake.base


class FakeGraph:
    """A stand-in token endpoint and Graph API on a thread that records each request's method,
    path and User-Agent, and answers with a token or an empty collection."""

    def __init__(self):
        self.seen = []
        seen = self.seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                seen.append((self.command, self.path.split("?")[0], self.headers.get("User-Agent")))
                token = "/oauth2/v2.0/token" in self.path
                body = json.dumps({"access_token": "t", "expires_in": 3600} if token else {"value": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_version_and_user_agent(server, cli):
    assert cli("--version").stdout == f"{VERSION}\n"
    with FakeGraph() as fake:
        cli("login", "--server", fake.base, "--client-id", "app", "--client-secret", "s")
        cli("attribute-set", "list")
        cli("apps", "list", "--output", "json")
    assert [(method, path) for method, path, _ in fake.seen] == [
        ("POST", "/organizations/oauth2/v2.0/token"), ("GET", "/v1.0/directory/attributeSets"), ("GET", "/v1.0/servicePrincipals")]
    assert {agent for _, _, agent in fake.seen} == {f"sigil/{VERSION}"}

    # The real server records it in the audit log of the change the command made.
    client_id, secret = server.demo_manager()
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    marker = f"UA-{uuid.uuid4().hex[:8]}"
    cli("user", "set", "joe@sigil.local", f"Marketing.EmployeeId={marker}")
    status, users = server.graph("GET", "/users/joe@sigil.local?$select=id", server.token(client_id, secret))
    status, audits = server.graph("GET", f"/auditLogs/customSecurityAttributeAudits?$filter=targetResources/any(t: t/id eq '{users['id']}')",
                                  server.token(client_id, secret), version="beta")
    assert status == 200, audits
    assert [record["userAgent"] for record in audits["value"] if marker in json.dumps(record)] == [f"sigil/{VERSION}"]


def test_schema_commands(server, cli):
    client_id, secret = server.demo_manager()
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    cli("attribute-set", "create", "Finance", "--description", "Attributes for finance", "--max", "10")
    sets = json.loads(cli("attribute-set", "list", "--output", "json").stdout)
    assert {"Engineering", "Marketing", "Finance"} <= {item["id"] for item in sets}
    cli("attribute-set", "update", "Finance", "--max", "20")
    assert json.loads(cli("attribute-set", "show", "Finance", "--output", "json").stdout)[0]["maxAttributesPerSet"] == 20
    assert re.search(r"^Finance +20 +Attributes for finance$", cli("attribute-set", "show", "Finance").stdout, re.M)

    cli("attribute", "create", "Finance.CostCenter", "--type", "String", "--predefined-only", "--values", "CC-100,CC-200",
        "--description", "Budget owner")
    cli("allowed-value", "add", "Finance.CostCenter", "CC-300")
    cli("allowed-value", "deactivate", "Finance.CostCenter", "CC-200")
    shown = json.loads(cli("attribute", "show", "Finance.CostCenter", "--output", "json").stdout)[0]
    assert [(value["id"], value["isActive"]) for value in shown["allowedValues"]] == [
        ("CC-100", True), ("CC-200", False), ("CC-300", True)]
    assert "CC-200 (inactive)" in cli("attribute", "list", "--set", "Finance").stdout
    assert json.loads(cli("allowed-value", "list", "Finance.CostCenter", "--output", "json").stdout) == [
        {"id": "CC-100", "isActive": True}, {"id": "CC-200", "isActive": False}, {"id": "CC-300", "isActive": True}]
    assert re.search(r"^CC-200 +no$", cli("allowed-value", "list", "Finance.CostCenter").stdout, re.M)
    cli("attribute", "update", "Finance.CostCenter", "--description", "Who owns the budget", "--allow-any-value")
    cli("attribute", "deactivate", "Finance.CostCenter")
    listed = json.loads(cli("attribute", "list", "--set", "Finance", "--output", "json").stdout)
    assert [(item["status"], item["usePreDefinedValuesOnly"]) for item in listed] == [("Deprecated", False)]
    cli("attribute", "reactivate", "Finance.CostCenter")
    # Graph's own refusals come back as exit status 1 with its message.
    duplicate = cli("attribute-set", "create", "Finance", check_status=1)
    assert "already exists" in duplicate.stderr
    assert "Set.Attribute" in cli("attribute", "show", "NoDot", check_status=2).stderr


def test_bulk_import_with_rejects_dry_run_and_round_trip(server, cli, tmp_path):
    client_id, secret = server.demo_manager()
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    boot = server.token()
    run = uuid.uuid4().hex[:6]
    names = [f"bulk{run}{index}" for index in range(2030)]
    for name in names:
        status, answer = server.graph("POST", "/users", boot, {
            "accountEnabled": True, "displayName": name, "mailNickname": name, "userPrincipalName": f"{name}@sigil.local",
            "passwordProfile": {"password": "Bulk-password-1!"}})
        assert status == 201, answer
    rows = ["object,set,attribute,value"]
    for index, name in enumerate(names[:1990]):
        upn = f"{name}@sigil.local"
        rows += [f"{upn},Engineering,ProjectDate,2024-11-{index % 28 + 1:02d}", f"{upn},Engineering,NumVendors,{index % 20}",
                 f"{upn},Engineering,Certification,{'true' if index % 2 else 'false'}",
                 f"{upn},Engineering,Project,Alpine|Baker", f'{upn},Marketing,EmployeeId,"GS{index},x"']
    bad = []
    for index, name in enumerate(names[1990:]):
        upn = f"{name}@sigil.local"
        bad.append([f"{upn},Engineering,NumVendors,abc", f"{upn},Engineering,Project,Denali",
                    f"{upn},Engineering,Nope,1", f"{upn},Engineering,Certification,maybe"][index % 4])
    bad += [f"ghost{run}{index}@sigil.local,Engineering,NumVendors,1" for index in range(10)]
    rows += bad
    assert len(rows) - 1 == 10_000 and len(bad) == 50
    source = tmp_path / "assignments.csv"
    source.write_text("\n".join(rows) + "\n")

    def ours():
        exported = cli("export", "assignments").stdout.splitlines()
        return sorted(line for line in exported if f"bulk{run}" in line)

    dry = cli("import", "assignments", str(source), "--dry-run", check_status=1)
    # The dry run checks against the definitions: the 10 unknown users only the server can tell.
    assert "9960 rows for 2000 objects would be written; 40 rows refused" in dry.stdout
    assert "line 9952: Engineering.NumVendors takes whole numbers" in dry.stdout
    assert not (tmp_path / "assignments.rejects.csv").exists()
    assert ours() == []

    result = cli("import", "assignments", str(source), check_status=1)
    assert "Wrote 9950 rows for 1990 objects" in result.stdout, result.stdout + result.stderr
    assert "50 rows refused" in result.stdout
    rejects = (tmp_path / "assignments.rejects.csv").read_text().splitlines()
    assert rejects[0] == "line,object,set,attribute,value,reason"
    assert sorted(int(line.split(",")[0]) for line in rejects[1:]) == list(range(9952, 10002))
    assert "takes whole numbers" in "\n".join(rejects) and "Request_ResourceNotFound" in "\n".join(rejects)
    assert "not an active predefined value" in "\n".join(rejects)
    first = ours()
    assert len(first) == 9950
    assert f'bulk{run}0@sigil.local,Marketing,EmployeeId,"GS0,x"' in first

    # What export writes, import takes back: nothing refused, nothing changed.
    exported = tmp_path / "exported.csv"
    exported.write_text("\n".join(["object,set,attribute,value"] + first) + "\n")
    again = cli("import", "assignments", str(exported))
    assert "Wrote 9950 rows for 1990 objects" in again.stdout and "0 rows refused" in again.stdout
    assert ours() == first


TENANT = """\
attributeSets:
- id: Legal
  description: Attributes for the legal team
  maxAttributesPerSet: 10
  attributes:
  - name: Matter
    description: Open matters
    type: String
    multiple: true
    predefinedOnly: true
    allowedValues:
    - id: M-1
    - id: M-2
      active: false
  - name: Retention
    type: Integer
roleAssignments:
- principal: jiya@sigil.local
  role: Attribute Assignment Reader
  scope: /attributeSets/Legal
"""


def test_import_reports_as_json(server, cli, tmp_path):
    client_id, secret = server.demo_manager()
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    source = tmp_path / "few.csv"
    source.write_text("object,set,attribute,value\n"
                      "jana@sigil.local,Engineering,NumVendors,7\n"
                      "jiya@sigil.local,Engineering,NumVendors,seven\n"
                      "jiya@sigil.local,Engineering,Certification,true\n")
    dry = json.loads(cli("import", "assignments", str(source), "--dry-run", "--output", "json", check_status=1).stdout)
    assert dry == {"dryRun": True, "rows": 3, "accepted": 1, "objects": 1, "rejectsFile": None, "refused": [
        {"line": 3, "object": "jiya@sigil.local", "set": "Engineering", "attribute": "NumVendors", "value": "seven",
         "reason": dry["refused"][0]["reason"]},
        {"line": 4, "object": "jiya@sigil.local", "set": "Engineering", "attribute": "Certification", "value": "true",
         "reason": "not written: another row for jiya@sigil.local was refused"}]}
    assert "takes whole numbers" in dry["refused"][0]["reason"]
    assert not (tmp_path / "few.rejects.csv").exists()

    done = json.loads(cli("import", "assignments", str(source), "--output", "json", check_status=1).stdout)
    assert (done["dryRun"], done["accepted"], done["objects"], len(done["refused"])) == (False, 1, 1, 2)
    assert done["rejectsFile"] == str(tmp_path / "few.rejects.csv") and os.path.exists(done["rejectsFile"])
    shown = json.loads(cli("user", "show", "jana@sigil.local", "--output", "json").stdout)
    assert shown["customSecurityAttributes"]["Engineering"]["NumVendors"] == 7


def test_tenant_as_code(server, cli, tmp_path):
    client_id, secret = server.demo_manager()
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    tenant = tmp_path / "tenant.yaml"
    tenant.write_text(TENANT)
    plan = cli("apply", "-f", str(tenant), "--dry-run").stdout
    assert "+ create attribute set Legal" in plan and "+ create attribute Legal.Matter" in plan
    assert "Plan: 4 to create, 0 to update, 0 to deactivate, 0 to reactivate." in plan
    assert "Legal" not in cli("attribute-set", "list").stdout, "a dry run changes nothing"
    planned = json.loads(cli("apply", "-f", str(tenant), "--dry-run", "--output", "json").stdout)
    assert planned == {"changes": [
        {"action": "create", "kind": "attributeSet", "name": "Legal", "details": ""},
        {"action": "create", "kind": "attribute", "name": "Legal.Matter", "details": ""},
        {"action": "create", "kind": "attribute", "name": "Legal.Retention", "details": ""},
        {"action": "create", "kind": "roleAssignment", "name": "Attribute Assignment Reader for jiya@sigil.local at /attributeSets/Legal",
         "details": ""}], "refusals": [], "notes": []}
    assert "Legal" not in cli("attribute-set", "list").stdout, "a dry run changes nothing"
    cli("login", "--server", server.base, "--client-id", BOOT_ID, f"--client-secret={BOOT_SECRET}")
    refused = cli("apply", "-f", str(tenant), check_status=1)
    assert "Insufficient privileges" in refused.stderr, "Global Administrator holds no attribute role, as in Entra"
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    tenant.write_text(TENANT.split("roleAssignments:")[0])
    applied = cli("apply", "-f", str(tenant)).stdout
    assert "Applied. 3 to create" in applied
    assert "No changes" in cli("apply", "-f", str(tenant)).stdout, "apply is idempotent"
    assert json.loads(cli("apply", "-f", str(tenant), "--output", "json").stdout)["changes"] == []

    # Change what may change; what Entra cannot do is reported and left.
    tenant.write_text(TENANT.split("roleAssignments:")[0].replace("Open matters", "Matters in progress")
                      .replace("  - name: Retention\n    type: Integer", "  - name: Retention\n    type: String\n    status: Deprecated"))
    planned = json.loads(cli("apply", "-f", str(tenant), "--dry-run", "--output", "json", check_status=1).stdout)
    assert planned["changes"] == [
        {"action": "update", "kind": "attribute", "name": "Legal.Matter", "details": "description"},
        {"action": "deactivate", "kind": "attribute", "name": "Legal.Retention", "details": ""}]
    assert [refusal.split(":")[0] for refusal in planned["refusals"]] == ["attribute Legal.Retention"]
    second = cli("apply", "-f", str(tenant), check_status=1).stdout
    assert "~ update attribute Legal.Matter: done" in second
    assert "- deactivate attribute Legal.Retention: done" in second
    assert "! attribute Legal.Retention: type cannot change once created" in second

    # Role assignments, applied by a Privileged Role Administrator (the bootstrap application).
    roles = tmp_path / "roles.yaml"
    roles.write_text("roleAssignments:" + TENANT.split("roleAssignments:")[1])
    cli("login", "--server", server.base, "--client-id", BOOT_ID, f"--client-secret={BOOT_SECRET}")
    granted = cli("apply", "-f", str(roles)).stdout
    assert "+ create Attribute Assignment Reader for jiya@sigil.local at /attributeSets/Legal: done" in granted
    assert "No changes" in cli("apply", "-f", str(roles)).stdout
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    assert "principal: jiya@sigil.local" in cli("export", "tenant").stdout

    # Export, then apply to another server: the same schema there.
    exported = cli("export", "tenant", "--no-roles").stdout
    assert "Matters in progress" in exported
    other = SigilServer(None, boot_id=str(uuid.uuid4()), boot_secret=BOOT_SECRET)
    try:
        copy = tmp_path / "exported.yaml"
        copy.write_text(exported)
        cli("login", "--server", other.base, "--client-id", other.boot_id, f"--client-secret={BOOT_SECRET}")
        token = other.token()
        status, apps = other.graph("GET", f"/servicePrincipals?$filter=appId eq '{other.boot_id}'&$select=id", token)
        for role in ("8424c6f0-a189-499e-bbd0-26c1753c96d4", "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d"):
            other.graph("POST", "/roleManagement/directory/roleAssignments", token, {
                "principalId": apps["value"][0]["id"], "roleDefinitionId": role, "directoryScopeId": "/"})
        cli("apply", "-f", str(copy))
        assert cli("export", "tenant", "--no-roles").stdout == exported
        assert "No changes" in cli("apply", "-f", str(copy)).stdout
    finally:
        other.stop()
