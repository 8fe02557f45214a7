"""`sigil access …` against a running server: access rules created, listed, shown, changed and
deleted; a decision through the AuthZEN endpoint (exit status 1 when denied); who a condition or
a rule admits, with the exact count."""
import json

from sigil_server import call
from test_cli import cli, server  # noqa: F401 (pytest fixtures)

ACCESS_ADMINISTRATOR = "5a9c1e2b-7d43-4f08-9b6e-3c1d0a8f4e21"
ACCESS_EVALUATOR = "c47e0d93-2b18-4a6f-8e5d-91f3b2a6c7d0"
PROJECT = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project]"
READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"


def grant_access_roles(server, app_id):
    boot = server.token()
    status, found = server.graph("GET", f"/servicePrincipals?$filter=appId eq '{app_id}'", boot)
    assert status == 200, found
    principal = found["value"][0]["id"]
    status, held = server.graph(
        "GET", f"/roleManagement/directory/roleAssignments?$filter=principalId eq '{principal}'", boot)
    assert status == 200, held
    held = {item["roleDefinitionId"] for item in held["value"]}
    for role in (ACCESS_ADMINISTRATOR, ACCESS_EVALUATOR):
        if role in held:
            continue
        status, answer = server.graph("POST", "/roleManagement/directory/roleAssignments", boot, {
            "principalId": principal, "roleDefinitionId": role, "directoryScopeId": "/"})
        assert status == 201, answer


def test_access_rules_decisions_and_who(server, cli):  # noqa: F811
    client_id, secret = server.demo_manager()
    grant_access_roles(server, client_id)
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    cli("user", "set", "chandra@sigil.local", "Engineering.Project=Baker,Cascade")
    chandra = json.loads(cli("user", "show", "chandra@sigil.local", "--output", "json").stdout)
    chandra = chandra[0] if isinstance(chandra, list) else chandra

    condition = f"{PROJECT} ForAnyOfAnyValues:StringEquals @Resource[tags:Project]"
    created = json.loads(cli("access", "rule", "create", "--name", "Project readers", "--principal", "all",
                             "--action", READ, "--condition", condition, "--output", "json").stdout)
    rule = created["id"]
    assert created["conditionVersion"] == "2.0"
    listed = json.loads(cli("access", "rule", "list", "--output", "json").stdout)
    assert [item["id"] for item in listed] == [rule]
    assert "Project readers" in cli("access", "rule", "show", rule).stdout

    allowed = cli("access", "check", "--subject", "chandra@sigil.local", "--action", READ,
                  "--resource-attr", "Project=Cascade")
    assert f"allowed (rule {rule})" in allowed.stdout
    denied = cli("access", "check", "--subject", "chandra@sigil.local", "--action", READ,
                 "--resource-attr", "Project=Alpine", check_status=1)
    assert "denied" in denied.stdout

    who = json.loads(cli("access", "who", "--rule", rule, "--resource-attr", "Project=Cascade",
                         "--output", "json").stdout)
    assert chandra["id"] in [item["id"] for item in who["value"]]
    assert who["@odata.count"] == len(who["value"])
    table = cli("access", "who", "--condition", f"{PROJECT} ForAnyOfAnyValues:StringEquals {{'Cascade'}}").stdout
    assert chandra["id"] in table and "admitted" in table

    # The server's refusals come back with exit status 1 and its message.
    bad = cli("access", "rule", "update", rule, "--condition", "@Resource[a] StringEquals", check_status=1)
    assert "The given role assignment condition is invalid." in bad.stderr
    cli("access", "rule", "update", rule, "--no-condition")
    assert json.loads(cli("access", "rule", "show", rule, "--output", "json").stdout)[0]["condition"] is None
    cli("access", "rule", "delete", rule)
    assert json.loads(cli("access", "rule", "list", "--output", "json").stdout) == []
    cli("access", "who", check_status=2)
    # The metadata document needs no token.
    status, metadata = call("GET", f"{server.base}/.well-known/authzen-configuration")
    assert status == 200 and metadata["access_evaluation_endpoint"].endswith("/access/v1/evaluation")


def test_access_rules_travel_in_the_tenant_file(server, cli, tmp_path):  # noqa: F811
    client_id, secret = server.demo_manager()
    grant_access_roles(server, client_id)
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    chandra = json.loads(cli("user", "show", "chandra@sigil.local", "--output", "json").stdout)
    chandra = chandra[0] if isinstance(chandra, list) else chandra
    created = json.loads(cli("access", "rule", "create", "--name", "Baker readers", "--principal", chandra["id"],
                             "--action", READ, "--condition", f"{PROJECT} ForAnyOfAnyValues:StringEquals {{'Baker'}}",
                             "--output", "json").stdout)

    # The export names the principal by user principal name, so the file works on another server.
    exported = cli("export", "tenant", "--no-roles").stdout
    assert "accessRules:" in exported and "chandra@sigil.local" in exported and "Baker readers" in exported
    tenant_file = tmp_path / "tenant.yaml"
    tenant_file.write_text(exported)
    assert "No changes: the server matches" in cli("apply", "-f", str(tenant_file), "--dry-run").stdout

    # A changed condition is patched; a deleted rule is created again from the file.
    # "Baker'" is the end of the condition's literal however YAML quotes it, and nowhere else.
    assert exported.count("Baker'") == 1
    tenant_file.write_text(exported.replace("Baker'", "Cascade'"))
    plan = json.loads(cli("apply", "-f", str(tenant_file), "--output", "json").stdout)
    assert [(c["action"], c["kind"], c["name"]) for c in plan["changes"]] == [("update", "accessRule", "Baker readers")]
    shown = json.loads(cli("access", "rule", "show", created["id"], "--output", "json").stdout)[0]
    assert shown["condition"].endswith("{'Cascade'}")
    cli("access", "rule", "delete", created["id"])
    cli("apply", "-f", str(tenant_file))
    rules = json.loads(cli("access", "rule", "list", "--output", "json").stdout)
    assert [(r["displayName"], r["principals"]) for r in rules] == [("Baker readers", [chandra["id"]])]
    cli("access", "rule", "delete", rules[0]["id"])
