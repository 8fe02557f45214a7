"""Conditional Access through the official SDKs, unchanged: msgraph-sdk creates, reads, updates
and deletes a policy with an applicationFilter and a servicePrincipalFilter, msgraph-beta-sdk asks
What-If, and azure-identity's ClientSecretCredential is refused a token for a blocked workload
identity, then gets one once the attribute value that selected it is removed."""
import asyncio
import os
import shutil
import subprocess
import tempfile
from urllib.parse import urlparse

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider

import msgraph
import msgraph_beta
from msgraph.generated.models.conditional_access_applications import ConditionalAccessApplications
from msgraph.generated.models.conditional_access_client_app import ConditionalAccessClientApp
from msgraph.generated.models.conditional_access_client_applications import ConditionalAccessClientApplications
from msgraph.generated.models.conditional_access_condition_set import ConditionalAccessConditionSet
from msgraph.generated.models.conditional_access_filter import ConditionalAccessFilter
from msgraph.generated.models.conditional_access_grant_control import ConditionalAccessGrantControl
from msgraph.generated.models.conditional_access_grant_controls import ConditionalAccessGrantControls
from msgraph.generated.models.conditional_access_policy import ConditionalAccessPolicy
from msgraph.generated.models.conditional_access_policy_state import ConditionalAccessPolicyState
from msgraph.generated.models.filter_mode import FilterMode
from msgraph_beta.generated.identity.conditional_access.evaluate.evaluate_post_request_body import EvaluatePostRequestBody
from msgraph_beta.generated.models.application_context import ApplicationContext
from msgraph_beta.generated.models.service_principal_sign_in import ServicePrincipalSignIn
from msgraph_beta.generated.models.sign_in_conditions import SignInConditions

from conftest import SIGIL
from sigil_server import SigilServer

BOOT_ID = "c0ffee20-5e1d-4c1a-9e55-0a11c0ffee20"
BOOT_SECRET = "boot8Q~conditional-access-0123456789abcd"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
CA_ADMINISTRATOR = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
DEFINITION_READER = "1d336d2c-4ae8-42ef-9711-b3604ce3fc2c"
ASSIGNMENT_ADMINISTRATOR = "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d"
ASSIGNMENT_READER = "ffd52fa5-98dc-465c-991d-fc073eb59f8f"
SP_RULE = 'CustomSecurityAttribute.Engineering_Project -contains "Baker"'
APP_RULE = 'CustomSecurityAttribute.Engineering_ProjectDate -startsWith "2024"'


@pytest.fixture(scope="module")
def server():
    data = tempfile.mkdtemp(prefix="sigil-ca-")
    cert, key = os.path.join(data, "cert.pem"), os.path.join(data, "key.pem")
    subprocess.run([SIGIL, "dev-cert", "--cert", cert, "--key", key], check=True, capture_output=True)
    # Trust this server's certificate for this module only: the session's server (conftest) has its own.
    trusted = {name: os.environ.get(name) for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    os.environ["SSL_CERT_FILE"] = cert
    os.environ["REQUESTS_CA_BUNDLE"] = cert
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=ca_{os.getpid()}" if database else None
    running = SigilServer(url, "--demo", "--tls-cert", cert, "--tls-key", key, boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    try:
        yield running
    finally:
        running.stop()
        for name, value in trusted.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(data, ignore_errors=True)


def ok(answer, status=(200, 201, 204)):
    code, body = answer
    assert code in status, body
    return body


def new_app(server, boot, name, roles=()):
    """An application with a secret and a service principal holding `roles`: (appId, secret, principal id)."""
    app = ok(server.graph("POST", "/applications", boot, {"displayName": name}))
    secret = ok(server.graph("POST", f"/applications/{app['id']}/addPassword", boot, {}))["secretText"]
    principal = ok(server.graph("POST", "/servicePrincipals", boot, {"appId": app["appId"]}))
    for role in roles:
        ok(server.graph("POST", "/roleManagement/directory/roleAssignments", boot, {
            "principalId": principal["id"], "roleDefinitionId": role, "directoryScopeId": "/"}))
    return app["appId"], secret, principal["id"]


def credential(server, app_id, secret):
    return ClientSecretCredential(server.tenant, app_id, secret, authority=server.base, disable_instance_discovery=True)


def clients(server, app_id, secret):
    host = urlparse(server.base).hostname
    v1_adapter = msgraph.GraphRequestAdapter(
        AzureIdentityAuthenticationProvider(credential(server, app_id, secret), scopes=[GRAPH_SCOPE], allowed_hosts=[host]))
    v1_adapter.base_url = f"{server.base}/v1.0"
    beta_adapter = msgraph_beta.GraphRequestAdapter(
        AzureIdentityAuthenticationProvider(credential(server, app_id, secret), scopes=[GRAPH_SCOPE], allowed_hosts=[host]))
    beta_adapter.base_url = f"{server.base}/beta"
    return msgraph.GraphServiceClient(request_adapter=v1_adapter), msgraph_beta.GraphServiceClient(request_adapter=beta_adapter)


def set_project(server, token, principal_id, values):
    attributes = {"Engineering": {"@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue",
                                  "Project@odata.type": "#Collection(String)", "Project": values}}
    ok(server.graph("PATCH", f"/servicePrincipals/{principal_id}", token, {"customSecurityAttributes": attributes}))


def test_sdks_manage_a_policy_and_the_token_endpoint_enforces_it(server):
    boot = server.token()
    admin_id, admin_secret, _ = new_app(
        server, boot, "Conditional Access admin", (CA_ADMINISTRATOR, DEFINITION_READER, ASSIGNMENT_ADMINISTRATOR))
    job_id, job_secret, job_principal = new_app(server, boot, "Baker job")
    admin_token = server.token(admin_id, admin_secret)
    set_project(server, admin_token, job_principal, ["Baker"])
    v1, beta = clients(server, admin_id, admin_secret)

    # The workload identity gets a token before any policy exists.
    job = credential(server, job_id, job_secret)
    assert job.get_token(GRAPH_SCOPE).token

    async def scenario():
        policy = ConditionalAccessPolicy(
            display_name="Block Baker workloads", state=ConditionalAccessPolicyState.Enabled,
            conditions=ConditionalAccessConditionSet(
                client_app_types=[ConditionalAccessClientApp.All],
                applications=ConditionalAccessApplications(
                    include_applications=["All"],
                    application_filter=ConditionalAccessFilter(mode=FilterMode.Exclude, rule=APP_RULE)),
                client_applications=ConditionalAccessClientApplications(
                    include_service_principals=[],
                    service_principal_filter=ConditionalAccessFilter(mode=FilterMode.Include, rule=SP_RULE))),
            grant_controls=ConditionalAccessGrantControls(
                operator="OR", built_in_controls=[ConditionalAccessGrantControl.Block]))
        created = await v1.identity.conditional_access.policies.post(policy)
        assert created.id and created.state == ConditionalAccessPolicyState.Enabled
        assert created.conditions.client_applications.service_principal_filter.rule == SP_RULE
        assert created.conditions.applications.application_filter.mode == FilterMode.Exclude

        read = await v1.identity.conditional_access.policies.by_conditional_access_policy_id(created.id).get()
        assert read.display_name == "Block Baker workloads"
        assert read.conditions.applications.application_filter.rule == APP_RULE
        listed = await v1.identity.conditional_access.policies.get()
        assert [p.id for p in listed.value] == [created.id]

        beta_read = await beta.identity.conditional_access.policies.by_conditional_access_policy_id(created.id).get()
        assert beta_read.conditions.client_applications.service_principal_filter.rule == SP_RULE

        result = await beta.identity.conditional_access.evaluate.post(EvaluatePostRequestBody(
            sign_in_identity=ServicePrincipalSignIn(service_principal_id=job_principal),
            sign_in_context=ApplicationContext(include_applications=[GRAPH_APP_ID]),
            sign_in_conditions=SignInConditions(), applied_policies_only=True))
        assert [r.id for r in result.value] == [created.id]
        assert result.value[0].policy_applies is True
        policy_id = created.id

        # Blocked: Entra's AADSTS53003 through azure-identity's own error.
        blocked = credential(server, job_id, job_secret)
        with pytest.raises(ClientAuthenticationError) as refusal:
            blocked.get_token(GRAPH_SCOPE)
        assert "AADSTS53003" in str(refusal.value) and policy_id in str(refusal.value)

        # The value that selected it removed: the next token is issued.
        set_project(server, admin_token, job_principal, [])
        assert credential(server, job_id, job_secret).get_token(GRAPH_SCOPE).token

        patch = ConditionalAccessPolicy(state=ConditionalAccessPolicyState.EnabledForReportingButNotEnforced)
        await v1.identity.conditional_access.policies.by_conditional_access_policy_id(policy_id).patch(patch)
        read = await v1.identity.conditional_access.policies.by_conditional_access_policy_id(policy_id).get()
        assert read.state == ConditionalAccessPolicyState.EnabledForReportingButNotEnforced
        assert read.modified_date_time is not None
        await v1.identity.conditional_access.policies.by_conditional_access_policy_id(policy_id).delete()
        listed = await v1.identity.conditional_access.policies.get()
        assert listed.value == []

    asyncio.run(scenario())


def test_cli_manages_policies_and_asks_what_if(tmp_path):
    """`sigil ca list|show|create|update|delete|whatif|targets` against a plain-HTTP server."""
    import json
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=cacli_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    home = tmp_path / "home"
    env = dict(os.environ, XDG_CONFIG_HOME=str(home / "config"), HOME=str(home))

    def cli(*args, status=0):
        result = subprocess.run([SIGIL, *args], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == status, result.stdout + result.stderr
        return result

    try:
        boot = server.token()
        admin_id, admin_secret, _ = new_app(server, boot, "CA admin", (CA_ADMINISTRATOR, DEFINITION_READER, ASSIGNMENT_READER))
        _, _, job_principal = new_app(server, boot, "Baker job")
        cli("login", "--server", server.base, "--client-id", admin_id, f"--client-secret={admin_secret}")
        policy = {
            "displayName": "Block Baker workloads", "state": "enabled",
            "conditions": {"clientAppTypes": ["all"], "applications": {"includeApplications": ["All"]},
                           "clientApplications": {"includeServicePrincipals": [job_principal],
                                                  "servicePrincipalFilter": {"mode": "include", "rule": SP_RULE}}},
            "grantControls": {"operator": "OR", "builtInControls": ["block"]},
        }
        path = tmp_path / "policy.json"
        path.write_text(json.dumps(policy))
        created = json.loads(cli("ca", "create", "--file", str(path), "--output", "json").stdout)
        policy_id = created["id"]
        listed = cli("ca", "list").stdout
        assert policy_id in listed and "Block Baker workloads" in listed and SP_RULE in listed
        assert json.loads(cli("ca", "show", policy_id, "--output", "json").stdout)[0]["state"] == "enabled"
        cli("ca", "update", policy_id, "--state", "enabledForReportingButNotEnforced")
        assert json.loads(cli("ca", "show", policy_id, "--output", "json").stdout)[0]["state"] == \
            "enabledForReportingButNotEnforced"
        what_if = json.loads(cli("ca", "whatif", "--service-principal", job_principal, "--output", "json").stdout)
        assert [(r["id"], r["policyApplies"]) for r in what_if] == [(policy_id, True)]
        # Every service principal is a target app ("All"); the job is also selected as a workload.
        targets = json.loads(cli("ca", "targets", policy_id, "--output", "json").stdout)
        assert targets["@odata.count"] == len(targets["value"]) >= 3
        roles = {t["id"]: t["selectedAs"] for t in targets["value"]}
        assert roles[job_principal] == ["workloadIdentity", "application"]
        assert f"{targets['@odata.count']} selected" in cli("ca", "targets", policy_id).stdout
        # The tenant file carries policies: exported, edited, applied by display name.
        exported = cli("export", "tenant", "--no-roles").stdout
        assert "conditionalAccessPolicies:" in exported and "displayName: Block Baker workloads" in exported
        assert "state: enabledForReportingButNotEnforced" in exported
        tenant_file = tmp_path / "tenant.yaml"
        tenant_file.write_text(exported.replace("state: enabledForReportingButNotEnforced", "state: disabled"))
        assert "Plan: 0 to create, 1 to update" in cli("apply", "-f", str(tenant_file), "--dry-run").stdout
        cli("apply", "-f", str(tenant_file))
        assert json.loads(cli("ca", "show", policy_id, "--output", "json").stdout)[0]["state"] == "disabled"
        assert "No changes: the server matches" in cli("apply", "-f", str(tenant_file), "--dry-run").stdout
        refused = cli("ca", "create", "--file", str(path), "--state", "x", status=2)
        assert "--state" in refused.stderr
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**policy, "state": "on"}))
        assert "Invalid value 'on'" in cli("ca", "create", "--file", str(bad), status=1).stderr
        cli("ca", "delete", policy_id)
        assert policy_id not in cli("ca", "list").stdout
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
