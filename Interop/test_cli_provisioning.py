"""`sigil provisioning mapping show|set` against a running server: the default mapping, a mapping
saved from a file and from standard input, read back as a table and as JSON, a refused mapping
(exit status 1, the server's message, nothing changed), a reader who may not replace it, and
`{}` restoring the default."""
import json
import os
import subprocess

from conftest import SIGIL

from test_cli import cli, server  # noqa: F401 (pytest fixtures)

PROVISIONING_ADMINISTRATOR = "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe"
GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
ACME = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"


def grant(server, app_id, role):
    boot = server.token()
    status, found = server.graph("GET", f"/servicePrincipals?$filter=appId eq '{app_id}'", boot)
    assert status == 200, found
    status, answer = server.graph("POST", "/roleManagement/directory/roleAssignments", boot, {
        "principalId": found["value"][0]["id"], "roleDefinitionId": role, "directoryScopeId": "/"})
    assert status == 201, answer


def test_provisioning_mapping_show_and_set(server, cli, tmp_path):  # noqa: F811
    client_id, secret = server.demo_manager()
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
    refused = cli("provisioning", "mapping", "show", check_status=1)
    assert "403" in refused.stderr, "the demo manager holds no provisioning role yet"
    grant(server, client_id, PROVISIONING_ADMINISTRATOR)
    cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")

    default = cli("provisioning", "mapping", "show").stdout
    assert "Matching identifier: externalId (matches employeeId)" in default
    assert "No attribute mappings" in default
    assert json.loads(cli("provisioning", "mapping", "show", "--output", "json").stdout) == {
        "matchingIdentifier": "externalId", "attributeMappings": []}

    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"matchingIdentifier": "userName", "attributeMappings": [
        {"source": f"{ACME}:costCenter", "target": "engineering_costcenter"}]}))
    saved = cli("provisioning", "mapping", "set", "--file", str(mapping)).stdout
    assert "Saved the provisioning mapping." in saved
    assert "Matching identifier: userName (matches userPrincipalName)" in saved
    assert f"{ACME}:costCenter" in saved and "Engineering_CostCenter" in saved, "the target as the schema spells it"
    shown = json.loads(cli("provisioning", "mapping", "show", "--output", "json").stdout)
    assert shown == {"matchingIdentifier": "userName", "attributeMappings": [
        {"source": f"{ACME}:costCenter", "target": "Engineering_CostCenter"}]}

    # A refusal: status 1, the server's message on standard error, the saved mapping unchanged.
    mapping.write_text(json.dumps({"attributeMappings": [{"source": f"{ACME}:costCenter", "target": "Engineering_Nope"}]}))
    bad = cli("provisioning", "mapping", "set", "--file", str(mapping), check_status=1)
    assert bad.stderr.startswith("sigil: ") and "Engineering_Nope" in bad.stderr and "400" in bad.stderr
    assert json.loads(cli("provisioning", "mapping", "show", "--output", "json").stdout) == shown
    # Command-line mistakes: status 2.
    assert "Cannot read" in cli("provisioning", "mapping", "set", "--file", str(tmp_path / "missing.json"),
                                check_status=2).stderr
    mapping.write_text("{not json")
    assert "is not JSON" in cli("provisioning", "mapping", "set", "--file", str(mapping), check_status=2).stderr
    cli("provisioning", "mapping", "set", check_status=2)

    # From standard input; {} restores Sigil's default.
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(cli.home, "config"), HOME=cli.home)
    restored = subprocess.run([SIGIL, "provisioning", "mapping", "set", "--file", "-", "--output", "json"],
                              input="{}", capture_output=True, text=True, env=env, timeout=60)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout) == {"matchingIdentifier": "externalId", "attributeMappings": []}


def test_a_global_reader_may_show_but_not_set(server, cli, tmp_path):  # noqa: F811
    boot = server.token()
    status, app = server.graph("POST", "/applications", boot, {"displayName": "Mapping reader"})
    assert status == 201, app
    status, principal = server.graph("POST", "/servicePrincipals", boot, {"appId": app["appId"]})
    assert status == 201, principal
    status, secret = server.graph("POST", f"/applications/{app['id']}/addPassword", boot, {"passwordCredential": {}})
    assert status == 200, secret
    grant(server, app["appId"], GLOBAL_READER)
    cli("login", "--server", server.base, "--client-id", app["appId"], f"--client-secret={secret['secretText']}")
    assert "Matching identifier" in cli("provisioning", "mapping", "show").stdout
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{}")
    refused = cli("provisioning", "mapping", "set", "--file", str(mapping), check_status=1)
    assert "403" in refused.stderr
