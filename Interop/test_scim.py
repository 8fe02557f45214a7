"""The SCIM 2.0 service provider at /scim/v2 against independent SCIM tooling: scim2-tester runs its
whole suite against a live Sigil as a provisioning application (Attribute Provisioning
Administrator) and must report no failure, and scim2-models parses every response it reads."""
import uuid

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ListResponse, ResourceType, Schema, ServiceProviderConfig
from scim2_tester import Status, check_server

from conftest import SIGIL  # noqa: F401  (the binary must exist)
from sigil_server import SigilServer

BOOT_ID = str(uuid.uuid4())
BOOT_SECRET = "boot8Q~scim-interop-secret-0123456789abcdefgh"
PROVISIONING_ADMINISTRATOR = "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe"
CSA = "urn:ietf:params:scim:schemas:extension:Microsoft:Entra:2.0:CustomSecurityAttributes"


@pytest.fixture(scope="module")
def provisioning():
    """A demo server and an application holding Attribute Provisioning Administrator: (server, token)."""
    import os
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=scim_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    try:
        yield server, server.application("HR inbound", PROVISIONING_ADMINISTRATOR)[1]
    finally:
        server.stop()


def scim_client(server, token):
    http = httpx2.Client(base_url=f"{server.base}/scim/v2", headers={"Authorization": f"Bearer {token}"})
    return SyncSCIMClient(http)


def entra_valid_examples(client, schemas):
    """Values scim2-tester fills in, kept to what Entra itself accepts: a userName in UPN form, an
    externalId (employeeId) of at most 16 characters, a language tag, and the predefined values of
    attributes that take only those. Everything else stays random."""
    canonical = {}
    for schema in schemas:
        for attribute in schema.get("attributes", []):
            for sub in attribute.get("subAttributes", []) or []:
                if sub.get("canonicalValues"):
                    canonical[sub["name"]] = sub["canonicalValues"]
    fixed = {
        "userName": [f"{uuid.uuid4().hex[:12]}@sigil.local" for _ in range(500)],
        "externalId": [uuid.uuid4().hex[:16] for _ in range(500)],
        "preferredLanguage": ["en-US", "fr-FR", "de-DE"],
        **canonical,
    }
    seen = set()

    def visit(model):
        if model in seen or not hasattr(model, "model_fields"):
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            alias = field.serialization_alias or field.alias or name
            if alias in fixed:
                field.examples = fixed[alias]
            for inner in getattr(field.annotation, "__args__", ()) + (field.annotation,):
                if isinstance(inner, type):
                    visit(inner)
        model.model_rebuild(force=True)

    for model in client.resource_models:
        visit(model)
        for extension in getattr(model, "get_extension_models", lambda: {})().values():
            visit(extension)


def test_scim2_tester_reports_no_failure(provisioning):
    server, token = provisioning
    client = scim_client(server, token)
    client.discover()
    schemas = httpx2.Client(base_url=f"{server.base}/scim/v2", headers={"Authorization": f"Bearer {token}"}).get("/Schemas").json()
    entra_valid_examples(client, schemas["Resources"])
    results = check_server(client)
    failures = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    summary = {}
    for result in results:
        summary[result.status.name] = summary.get(result.status.name, 0) + 1
    print(f"scim2-tester: {len(results)} checks: {summary}")
    for result in results:
        if result.status not in (Status.SUCCESS, Status.SKIPPED):
            print(f"  {result.status.name}: {result.title}: {result.reason} {result.data}")
    assert results, "scim2-tester ran no check"
    assert not failures, "\n".join(f"{r.title}: {r.reason}" for r in failures)


def test_scim2_models_parse_every_response(provisioning):
    server, token = provisioning
    http = httpx2.Client(base_url=f"{server.base}/scim/v2", headers={"Authorization": f"Bearer {token}"})
    # The User model with the extensions Sigil publishes, built by scim2-models from /Schemas.
    client = scim_client(server, token)
    client.discover()
    UserModel = client.get_resource_model("User")
    ServiceProviderConfig.model_validate(http.get("/ServiceProviderConfig").json())
    ListResponse[ResourceType].model_validate(http.get("/ResourceTypes").json())
    schemas = ListResponse[Schema].model_validate(http.get("/Schemas").json())
    extension = next(s for s in schemas.resources if s.id == CSA)
    # The demo's attribute sets are published as complex attributes of the extension.
    assert {a.name for a in extension.attributes} >= {"Engineering", "Marketing"}

    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", CSA],
        "userName": "hr.models@sigil.local", "externalId": "M-42",
        CSA: {"Engineering": {"Project": ["Baker"], "NumVendors": 2}},
    }
    created = http.post("/Users", json=body, headers={"Content-Type": "application/scim+json"})
    assert created.status_code == 201, created.text
    user = UserModel.model_validate(created.json())
    assert user.user_name == "hr.models@sigil.local"
    listed = http.get("/Users", params={"filter": f'externalId eq "M-42" and {CSA}:Engineering.Project eq "Baker"'})
    assert listed.status_code == 200, listed.text
    page = ListResponse[UserModel].model_validate(listed.json())
    assert [u.user_name for u in page.resources] == ["hr.models@sigil.local"]
    assert listed.json()["Resources"][0][CSA]["Engineering"]["NumVendors"] == 2
    missing = http.get("/Users/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
