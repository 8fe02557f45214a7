"""The official Microsoft Graph Python SDKs (v1.0 and beta) and azure-identity against Sigil:
every seed attribute assigned, updated, read and removed on a user and a service principal."""
import asyncio
import datetime
from urllib.parse import urlparse

import pytest
import requests
from azure.identity import ClientSecretCredential
from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider

import msgraph
import msgraph_beta
from msgraph.generated.models.custom_security_attribute_value import CustomSecurityAttributeValue as CsaV1
from msgraph.generated.models.service_principal import ServicePrincipal as ServicePrincipalV1
from msgraph.generated.models.user import User as UserV1
from msgraph.generated.service_principals.item.service_principal_item_request_builder import ServicePrincipalItemRequestBuilder as SpItemV1
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder as UserItemV1
from msgraph_beta.generated.models.custom_security_attribute_value import CustomSecurityAttributeValue as CsaBeta
from msgraph_beta.generated.models.service_principal import ServicePrincipal as ServicePrincipalBeta
from msgraph_beta.generated.models.user import User as UserBeta
from msgraph_beta.generated.service_principals.item.service_principal_item_request_builder import ServicePrincipalItemRequestBuilder as SpItemBeta
from msgraph_beta.generated.users.item.user_item_request_builder import UserItemRequestBuilder as UserItemBeta

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
SET_TYPE = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"


def v1_client(sigil):
    """Stock azure-identity credential with its authority pointed at Sigil, over TLS."""
    credential = ClientSecretCredential(
        sigil.tenant, sigil.client_id, sigil.client_secret,
        authority=sigil.base, disable_instance_discovery=True)
    host = urlparse(sigil.base).hostname
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
    adapter = msgraph.GraphRequestAdapter(auth)
    adapter.base_url = f"{sigil.base}/v1.0"
    return msgraph.GraphServiceClient(request_adapter=adapter)


class StaticToken(AccessTokenProvider):
    """A token fetched once from Sigil's token endpoint with a plain form POST."""

    def __init__(self, token, host):
        self.token = token
        self.validator = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token

    def get_allowed_hosts_validator(self):
        return self.validator


def beta_client(sigil):
    reply = requests.post(
        f"{sigil.base}/{sigil.tenant}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": sigil.client_id,
              "client_secret": sigil.client_secret, "scope": GRAPH_SCOPE},
        verify=sigil.cert, timeout=30)
    reply.raise_for_status()
    auth = BaseBearerTokenAuthenticationProvider(StaticToken(reply.json()["access_token"], urlparse(sigil.base).hostname))
    adapter = msgraph_beta.GraphRequestAdapter(auth)
    adapter.base_url = f"{sigil.base}/beta"
    return msgraph_beta.GraphServiceClient(request_adapter=adapter)


def engineering(**members):
    return {"Engineering": {"@odata.type": SET_TYPE, **members}}


# Each seed step: the attributes to send, then what Engineering must read back as.
SEED_STEPS = [
    ("assign string", {"ProjectDate": "2022-10-01"}, {"ProjectDate": "2022-10-01"}),
    ("assign multi-string", {"Project@odata.type": "#Collection(String)", "Project": ["Baker", "Cascade"]},
     {"Project": ["Baker", "Cascade"]}),
    ("assign integer", {"NumVendors@odata.type": "#Int32", "NumVendors": 4}, {"NumVendors": 4}),
    ("assign multi-integer", {"CostCenter@odata.type": "#Collection(Int32)", "CostCenter": [1001, 1003]},
     {"CostCenter": [1001, 1003]}),
    ("assign boolean", {"Certification": True}, {"Certification": True}),
    ("update integer", {"NumVendors@odata.type": "#Int32", "NumVendors": 8}, {"NumVendors": 8}),
    ("update boolean", {"Certification": False}, {"Certification": False}),
    ("update multi-string", {"Project@odata.type": "#Collection(String)", "Project": ["Alpine", "Baker"]},
     {"Project": ["Alpine", "Baker"]}),
    ("remove single", {"ProjectDate": None}, {"ProjectDate": None}),
    ("remove multi", {"Project": []}, {"Project": None}),
    ("remove the rest", {"NumVendors": None, "CostCenter": None, "Certification": None},
     {"NumVendors": None, "CostCenter": None, "Certification": None}),
]


def plain(value):
    """Kiota's untyped parser turns date-like strings into datetimes; compare as the wire had it."""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, list):
        return sorted(plain(v) for v in value)
    return value


def check(attributes, expected):
    engineering = (attributes or {}).get("Engineering") or {}
    for name, value in expected.items():
        if value is None:
            assert name not in engineering, f"{name} should be gone: {engineering}"
        else:
            assert plain(engineering.get(name)) == plain(value), f"{name}: {engineering}"
            if isinstance(value, list):
                assert engineering.get(f"{name}@odata.type", "").startswith("#Collection(")
    if engineering:
        assert engineering["@odata.type"] == "#microsoft.graph.customSecurityAttributeValue"


def run_seed(kind, client, models):
    user_model, sp_model, csa, user_item, sp_item = models

    async def scenario():
        if kind == "user":
            users = await client.users.get()
            target = next(u for u in users.value if u.display_name == "Dara")  # Dara starts with no values
            builder = client.users.by_user_id(target.id)
            config = user_item.UserItemRequestBuilderGetRequestConfiguration(
                query_parameters=user_item.UserItemRequestBuilderGetQueryParameters(select=["customSecurityAttributes"]))
            make = lambda data: user_model(custom_security_attributes=csa(additional_data=data))
        else:
            principals = await client.service_principals.get()
            target = next(p for p in principals.value if p.display_name == "Sigil Bootstrap")  # not the caller: nobody reads their own values
            builder = client.service_principals.by_service_principal_id(target.id)
            config = sp_item.ServicePrincipalItemRequestBuilderGetRequestConfiguration(
                query_parameters=sp_item.ServicePrincipalItemRequestBuilderGetQueryParameters(select=["customSecurityAttributes"]))
            make = lambda data: sp_model(custom_security_attributes=csa(additional_data=data))
        for name, members, expected in SEED_STEPS:
            await builder.patch(make(engineering(**members)))
            read = await builder.get(request_configuration=config)
            data = read.custom_security_attributes.additional_data if read.custom_security_attributes else None
            check(data, expected)
        final = await builder.get(request_configuration=config)
        # Nothing left: the property reads as null, as Graph returns it.
        assert final.custom_security_attributes is None

    asyncio.run(scenario())


V1_MODELS = (UserV1, ServicePrincipalV1, CsaV1, UserItemV1, SpItemV1)
BETA_MODELS = (UserBeta, ServicePrincipalBeta, CsaBeta, UserItemBeta, SpItemBeta)


@pytest.mark.parametrize("kind", ["user", "servicePrincipal"])
def test_v1_sdk_with_azure_identity_over_tls(sigil, kind):
    run_seed(kind, v1_client(sigil), V1_MODELS)


@pytest.mark.parametrize("kind", ["user", "servicePrincipal"])
def test_beta_sdk_with_token_from_sigil(sigil, kind):
    run_seed(kind, beta_client(sigil), BETA_MODELS)


def test_invalid_value_surfaces_as_odata_error(sigil):
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    client = v1_client(sigil)

    async def scenario():
        users = await client.users.get()
        target = users.value[0]
        with pytest.raises(ODataError) as raised:
            await client.users.by_user_id(target.id).patch(
                UserV1(custom_security_attributes=CsaV1(additional_data=engineering(NumVendors="four"))))
        assert raised.value.response_status_code == 400
        assert raised.value.error.code == "Request_BadRequest"
        assert "Engineering_NumVendors" in raised.value.error.message

    asyncio.run(scenario())


def test_v1_sdk_lists_users_with_seed_filters(sigil):
    """Seed 002's three list examples through msgraph-sdk: count, filter, select and the
    ConsistencyLevel header, as the SDK documentation shows them."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder

    client = v1_client(sigil)

    async def listing(filter_text):
        config = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            count=True, filter=filter_text, select=["id", "displayName", "customSecurityAttributes"]))
        config.headers.add("ConsistencyLevel", "eventual")
        return await client.users.get(request_configuration=config)

    async def scenario():
        equal = await listing("customSecurityAttributes/Marketing/AppCountry eq 'Canada'")
        assert equal.odata_count == 2
        assert sorted(u.display_name for u in equal.value) == ["Jana", "Jiya"]
        jana = next(u for u in equal.value if u.display_name == "Jana")
        marketing = jana.custom_security_attributes.additional_data["Marketing"]
        assert sorted(marketing["AppCountry"]) == ["Canada", "Mexico"] and marketing["EmployeeId"] == "GS46982"

        prefix = await listing("startsWith(customSecurityAttributes/Marketing/EmployeeId,'GS')")
        assert prefix.odata_count == 3
        assert sorted(u.display_name for u in prefix.value) == ["Chandra", "Jana", "Joe"]

        not_equal = await listing("customSecurityAttributes/Marketing/AppCountry ne 'Canada'")
        assert not_equal.odata_count == 5
        assert sorted(u.display_name for u in not_equal.value) == ["Alain", "Chandra", "Dara", "Isabella", "Joe"]
        assert next(u for u in not_equal.value if u.display_name == "Dara").custom_security_attributes is None

    asyncio.run(scenario())


def test_v1_sdk_addresses_a_user_by_user_principal_name(sigil):
    """`by_user_id` takes a userPrincipalName too; the SDK percent-encodes its `@` in the path."""
    client = v1_client(sigil)

    async def scenario():
        chandra = await client.users.by_user_id("chandra@sigil.local").get()
        assert chandra.user_principal_name == "chandra@sigil.local"
        assert chandra.display_name == "Chandra"
        by_name = client.users.by_user_id("chandra@sigil.local")
        await by_name.patch(UserV1(custom_security_attributes=CsaV1(additional_data=engineering(ProjectDate="2023-04-01"))))
        config = UserItemV1.UserItemRequestBuilderGetRequestConfiguration(
            query_parameters=UserItemV1.UserItemRequestBuilderGetQueryParameters(select=["id", "customSecurityAttributes"]))
        read = await client.users.by_user_id(chandra.id).get(request_configuration=config)
        assert plain(read.custom_security_attributes.additional_data["Engineering"]["ProjectDate"]) == "2023-04-01"
        await by_name.patch(UserV1(custom_security_attributes=CsaV1(additional_data=engineering(ProjectDate=None))))

    asyncio.run(scenario())
