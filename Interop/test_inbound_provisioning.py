"""API-driven inbound provisioning against a live server: a provisioning application creates and
starts a job, sends Microsoft's Postman sample (three users, with custom security attribute values
in the flat HR extension) to bulkUpload with `requests`, follows the Location header to the
provisioning logs, and the users and their values are read back through the official msgraph SDK."""
import asyncio
import os
import uuid
from urllib.parse import urlparse

import msgraph
import pytest
import requests
from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder

from conftest import SIGIL  # noqa: F401  (the binary must exist)
from sigil_server import SigilServer
from test_graph_sdks import StaticToken

BOOT_ID = str(uuid.uuid4())
BOOT_SECRET = "boot8Q~inbound-interop-secret-0123456789abcd"
PROVISIONING_ADMINISTRATOR = "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe"
FLAT = "urn:ietf:params:scim:schemas:extension:microsoft:entra:csa"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture(scope="module")
def inbound():
    """A demo server, a provisioning application's service principal and token, and the demo
    attribute manager's token: (server, principal id, provisioning token, manager token)."""
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=inbound_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    try:
        principal, token = server.application("HR inbound", PROVISIONING_ADMINISTRATOR)
        yield server, principal, token, server.token(*server.demo_manager())
    finally:
        server.stop()


def user(bulk_id, external_id, alias, given, family, title, department, values):
    """One operation as Microsoft's Postman collection writes it (unmapped attributes included),
    userName given a domain (Sigil's userPrincipalName needs one)."""
    return {
        "method": "POST", "bulkId": bulk_id, "path": "/Users",
        "data": {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE,
                        "urn:ietf:params:scim:schemas:extension:csv:1.0:User", FLAT],
            "id": str(uuid.uuid4()), "externalId": external_id, "userName": f"{alias}@contoso.com",
            "name": {"familyName": family, "givenName": given}, "displayName": f"{given} {family}", "nickName": given,
            "emails": [{"value": f"{alias}@contoso.com", "type": "work", "primary": True}],
            "addresses": [{"type": "work", "streetAddress": "201 Universal City Plaza", "locality": "Boston",
                           "region": "MA", "postalCode": "52116", "country": "USA", "primary": True}],
            "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
            "userType": "Employee", "title": title, "preferredLanguage": "en-US", "locale": "en-US",
            "timezone": "America/Boston", "active": True,
            ENTERPRISE: {"employeeNumber": external_id, "organization": "Contoso Global Services, Inc. (USA)",
                         "department": department,
                         "manager": {"value": "521097", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
                                     "displayName": "John Smith"}},
            "urn:ietf:params:scim:schemas:extension:csv:1.0:User": {"HireDate": "2022-07-01", "JobCode": "AB-1001"},
            FLAT: values,
        },
    }


SAMPLE = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
    "Operations": [
        user("897401c2-2de4-4b87-a97f-c02de3bcfc61", "521195", "monicang", "Monica", "Ang",
             "President, Consulting Services", "Operations",
             {"Engineering_Project": ["Alpine", "Baker"], "Engineering_NumVendors": 4}),
        user("897401c2-2de4-4b87-a37f-c02de3bcfc61", "521193", "dparker", "Darryl", "Parker", "Program Manager",
             "Program Management", {"Engineering_Project": ["Cascade"], "Engineering_Certification": True}),
        user("897401c2-2de4-4b87-a97f-c02de3bcfd61", "521194", "cabbott", "Carol", "Abbott",
             "Director, Consulting Services", "Consulting Services", {"Engineering_ProjectDate": "2025-06-30"}),
    ],
    "failOnErrors": None,
}


def graph_client(server, token):
    auth = BaseBearerTokenAuthenticationProvider(StaticToken(token, urlparse(server.base).hostname))
    adapter = msgraph.GraphRequestAdapter(auth)
    adapter.base_url = f"{server.base}/v1.0"
    return msgraph.GraphServiceClient(request_adapter=adapter)


def test_bulk_upload_of_the_postman_sample_reads_back_through_the_sdk(inbound):
    server, principal, token, manager = inbound
    jobs = f"{server.base}/v1.0/servicePrincipals/{principal}/synchronization/jobs"
    auth = {"Authorization": f"Bearer {token}"}
    templates = requests.get(jobs.replace("/jobs", "/templates"), headers=auth, timeout=30)
    assert templates.status_code == 200 and templates.json()["value"][0]["id"] == "API2AAD", templates.text
    created = requests.post(jobs, json={"templateId": "API2AAD"}, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    job = created.json()["id"]
    assert requests.post(f"{jobs}/{job}/start", headers=auth, timeout=30).status_code == 204

    # application/json is refused as Graph refuses it; application/scim+json is taken.
    refused = requests.post(f"{jobs}/{job}/bulkUpload", json=SAMPLE, headers=auth, timeout=30)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "Request_BadRequest", refused.text
    accepted = requests.post(f"{jobs}/{job}/bulkUpload", data=requests.compat.json.dumps(SAMPLE),
                             headers={**auth, "Content-Type": "application/scim+json"}, timeout=30)
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["Location"]
    assert location.startswith(f"{server.base}/beta/auditLogs/provisioning/?$filter=jobid%20eq%20'{job}'"), location

    logs = requests.get(location, headers=auth, timeout=30)
    assert logs.status_code == 200, logs.text
    entries = logs.json()["value"]
    assert sorted(e["sourceIdentity"]["id"] for e in entries) == ["521193", "521194", "521195"]
    assert {e["provisioningAction"] for e in entries} == {"create"}
    assert {e["statusInfo"]["status"] for e in entries} == {"success"}

    client = graph_client(server, manager)
    config = UserItemRequestBuilder.UserItemRequestBuilderGetRequestConfiguration(
        query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
            select=["id", "displayName", "employeeId", "jobTitle", "department", "customSecurityAttributes"]))

    async def read(upn):
        return await client.users.by_user_id(upn).get(request_configuration=config)

    async def scenario():
        monica = await read("monicang@contoso.com")
        assert monica.display_name == "Monica Ang" and monica.employee_id == "521195"
        assert monica.job_title == "President, Consulting Services" and monica.department == "Operations"
        engineering = monica.custom_security_attributes.additional_data["Engineering"]
        assert sorted(engineering["Project"]) == ["Alpine", "Baker"], engineering
        assert engineering["NumVendors"] == 4
        darryl = await read("dparker@contoso.com")
        assert darryl.custom_security_attributes.additional_data["Engineering"]["Certification"] is True
        carol = await read("cabbott@contoso.com")
        assert "ProjectDate" in carol.custom_security_attributes.additional_data["Engineering"]

        # The same upload with Monica's projects changed updates her in place.
        again = dict(SAMPLE, Operations=[dict(SAMPLE["Operations"][0])])
        again["Operations"][0]["data"] = dict(again["Operations"][0]["data"], **{FLAT: {"Engineering_Project": ["Cascade"]}})
        updated = requests.post(f"{jobs}/{job}/bulkUpload", data=requests.compat.json.dumps(again),
                                headers={**auth, "Content-Type": "application/scim+json"}, timeout=30)
        assert updated.status_code == 202, updated.text
        monica = await read("monicang@contoso.com")
        engineering = monica.custom_security_attributes.additional_data["Engineering"]
        assert engineering["Project"] == ["Cascade"] and engineering["NumVendors"] == 4, engineering

    # One event loop for the whole scenario: the SDK's HTTP client stays bound to it.
    asyncio.run(scenario())
    mine = requests.get(f"{server.base}/beta/auditLogs/provisioning",
                        params={"$filter": f"jobid eq '{job}' and sourceIdentity/id eq '521195'"}, headers=auth, timeout=30)
    assert [e["provisioningAction"] for e in mine.json()["value"]] == ["update", "create"], mine.text


ACME = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"


def test_a_configured_mapping_writes_a_custom_scim_attribute_and_matches_by_user_name(inbound):
    server, principal, token, manager = inbound
    auth = {"Authorization": f"Bearer {token}"}
    mapping_url = f"{server.base}/sigil/v1/provisioning/mapping"
    bad = requests.put(mapping_url, json={"attributeMappings": [{"source": "urn:acme", "target": "Engineering_CostCenter"}]},
                       headers=auth, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest", bad.text
    saved = requests.put(mapping_url, json={
        "matchingIdentifier": "userName",
        "attributeMappings": [{"source": f"{ACME}:costCenter", "target": "Engineering_CostCenter"}],
    }, headers=auth, timeout=30)
    assert saved.status_code == 200, saved.text
    try:
        jobs = f"{server.base}/v1.0/servicePrincipals/{principal}/synchronization/jobs"
        job = requests.post(jobs, json={"templateId": "API2AAD"}, headers=auth, timeout=30).json()["id"]
        assert requests.post(f"{jobs}/{job}/start", headers=auth, timeout=30).status_code == 204

        def upload(external_id, cost_centers):
            operation = user(str(uuid.uuid4()), external_id, "mapped", "Mapped", "User", "Engineer", "R&D",
                             {"Engineering_Project": ["Alpine"]})
            operation["data"]["schemas"].append(ACME)
            operation["data"][ACME] = {"costCenter": cost_centers}
            body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [operation]}
            reply = requests.post(f"{jobs}/{job}/bulkUpload", data=requests.compat.json.dumps(body),
                                  headers={**auth, "Content-Type": "application/scim+json"}, timeout=30)
            assert reply.status_code == 202, reply.text

        upload("610001", [1001])
        upload("610002", [1002, 1003])  # a new externalId: still the same user, matched by userName
        client = graph_client(server, manager)
        config = UserItemRequestBuilder.UserItemRequestBuilderGetRequestConfiguration(
            query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
                select=["id", "employeeId", "customSecurityAttributes"]))

        async def read():
            return await client.users.by_user_id("mapped@contoso.com").get(request_configuration=config)

        mapped = asyncio.run(read())
        assert mapped.employee_id == "610002"
        engineering = mapped.custom_security_attributes.additional_data["Engineering"]
        assert sorted(engineering["CostCenter"]) == [1002, 1003] and engineering["Project"] == ["Alpine"], engineering
        logs = requests.get(f"{server.base}/beta/auditLogs/provisioning",
                            params={"$filter": f"jobid eq '{job}'"}, headers=auth, timeout=30).json()["value"]
        assert [e["provisioningAction"] for e in logs] == ["update", "create"]
        assert {e["sourceIdentity"]["id"] for e in logs} == {"mapped@contoso.com"}
    finally:
        requests.put(mapping_url, json={}, headers=auth, timeout=30)


def test_pause_holds_uploads_restart_discards_them_and_provision_on_demand_through_the_sdk(inbound):
    """pause, start, restart and provisionOnDemand as the official msgraph SDK sends them."""
    from msgraph.generated.models.synchronization_job_application_parameters import SynchronizationJobApplicationParameters
    from msgraph.generated.models.synchronization_job_restart_criteria import SynchronizationJobRestartCriteria
    from msgraph.generated.models.synchronization_job_restart_scope import SynchronizationJobRestartScope
    from msgraph.generated.models.synchronization_job_subject import SynchronizationJobSubject
    from msgraph.generated.service_principals.item.synchronization.jobs.item.provision_on_demand.provision_on_demand_post_request_body import (  # noqa: E501
        ProvisionOnDemandPostRequestBody)
    from msgraph.generated.service_principals.item.synchronization.jobs.item.restart.restart_post_request_body import (
        RestartPostRequestBody)

    server, principal, token, _ = inbound
    auth = {"Authorization": f"Bearer {token}"}
    jobs_url = f"{server.base}/v1.0/servicePrincipals/{principal}/synchronization/jobs"
    job_id = requests.post(jobs_url, json={"templateId": "API2AAD"}, headers=auth, timeout=30).json()["id"]
    client = graph_client(server, token)
    job = client.service_principals.by_service_principal_id(principal).synchronization.jobs.by_synchronization_job_id(job_id)

    def upload(*operations):
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": list(operations)}
        reply = requests.post(f"{jobs_url}/{job_id}/bulkUpload", data=requests.compat.json.dumps(body),
                              headers={**auth, "Content-Type": "application/scim+json"}, timeout=30)
        assert reply.status_code == 202, reply.text

    def logged():
        return requests.get(f"{server.base}/beta/auditLogs/provisioning", params={"$filter": f"jobid eq '{job_id}'"},
                            headers=auth, timeout=30).json()["value"]

    def held(external_id, alias):
        return user(str(uuid.uuid4()), external_id, alias, "Held", alias.title(), "Engineer", "R&D",
                    {"Engineering_Project": ["Alpine"]})

    async def scenario():
        await job.start.post()
        await job.pause.post()
        paused = await job.get()
        assert paused.status.code.value == "Paused" and paused.schedule.state.value == "Paused"
        upload(held("630001", "held1"), held("630002", "held2"))
        assert logged() == [], "a paused job holds what it receives"

        # One user on demand; the job stays paused.
        answer = await job.provision_on_demand.post(ProvisionOnDemandPostRequestBody(parameters=[
            SynchronizationJobApplicationParameters(rule_id="03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8", subjects=[
                SynchronizationJobSubject(object_id="630001", object_type_name="User")])]))
        assert requests.compat.json.loads(answer.key)["result"] == "Success", answer.key
        assert requests.compat.json.loads(answer.value)["sourceIdentity"]["id"] == "630001"
        assert [entry["sourceIdentity"]["id"] for entry in logged()] == ["630001"]

        # Restart while paused: what is still held (630002) is discarded, never processed.
        await job.restart.post(RestartPostRequestBody(criteria=SynchronizationJobRestartCriteria(
            reset_scope=SynchronizationJobRestartScope.Watermark)))
        running = await job.get()
        assert running.status.code.value == "Active"
        assert [entry["sourceIdentity"]["id"] for entry in logged()] == ["630001"]

        # Paused again, then started: the held upload runs.
        await job.pause.post()
        upload(held("630003", "held3"))
        await job.start.post()
        assert [entry["sourceIdentity"]["id"] for entry in logged()] == ["630003", "630001"]

    asyncio.run(scenario())
