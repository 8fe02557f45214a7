"""msgraph-core's batch classes, as msgraph-sdk hands them its request adapter, against Sigil's
`$batch`: a BatchRequestContent of PATCHes and GETs, dependencies with 424, and a
BatchRequestContentCollection larger than 20 that the SDK splits into several batches.

msgraph-core 1.5.2 keeps a RequestInformation's absolute URL in a BatchRequestItem, which Graph
refuses with 400 (microsoftgraph/msgraph-sdk-python#1015, msgraph-sdk-python-core#1116) and so
does Sigil; each item here is made relative with the class's own `set_url`, as that report does."""
import asyncio

from msgraph.generated.models.custom_security_attribute_value import CustomSecurityAttributeValue
from msgraph.generated.models.user import User
from msgraph.generated.users.item.user_item_request_builder import UserItemRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_content_collection import BatchRequestContentCollection
from msgraph_core.requests.batch_request_item import BatchRequestItem

from test_graph_sdks import engineering, v1_client


def vendors_patch(client, user_id, count):
    body = User(custom_security_attributes=CustomSecurityAttributeValue(
        additional_data=engineering(**{"NumVendors@odata.type": "#Int32", "NumVendors": count})))
    return client.users.by_user_id(user_id).to_patch_request_information(body)


def item(request_information, request_id, depends_on=None):
    batched = BatchRequestItem(request_information=request_information, id=request_id, depends_on=depends_on)
    batched.set_url(request_information.url)
    return batched


async def num_vendors(client, user_id):
    config = UserItemRequestBuilder.UserItemRequestBuilderGetRequestConfiguration(
        query_parameters=UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(select=["customSecurityAttributes"]))
    user = await client.users.by_user_id(user_id).get(request_configuration=config)
    values = user.custom_security_attributes.additional_data if user.custom_security_attributes else {}
    return (values.get("Engineering") or {}).get("NumVendors")


async def demo_users(client):
    """Demo users other than those whose values the other interop tests assert on."""
    return [u for u in (await client.users.get()).value if u.display_name not in ("Dara", "Chandra")]


def test_batch_request_content_runs_patches_and_gets(sigil):
    client = v1_client(sigil)

    async def scenario():
        users = await demo_users(client)
        targets = users[:3]
        content = BatchRequestContent()
        for index, user in enumerate(targets):
            content.add_request(None, item(vendors_patch(client, user.id, 30 + index), f"patch-{index}"))
        content.add_request(None, item(client.users.by_user_id(targets[0].id).to_get_request_information(), "get"))
        reply = await client.batch.post(batch_request_content=content)
        codes = reply.get_response_status_codes()
        assert codes == {"patch-0": 204, "patch-1": 204, "patch-2": 204, "get": 200}
        assert reply.get_response_by_id("get").headers["Content-Type"].startswith("application/json")
        for index, user in enumerate(targets):
            assert await num_vendors(client, user.id) == 30 + index

    asyncio.run(scenario())


def test_depends_on_orders_and_a_failed_dependency_answers_424(sigil):
    client = v1_client(sigil)

    async def scenario():
        user = (await demo_users(client))[0]
        missing = client.users.by_user_id("00000000-0000-0000-0000-000000000000").to_get_request_information()
        content = BatchRequestContent()
        first = item(vendors_patch(client, user.id, 41), "first")
        content.add_request(None, first)
        content.add_request(None, item(vendors_patch(client, user.id, 42), "second", depends_on=[first]))
        content.add_request(None, item(missing, "gone"))
        content.add_request(None, item(vendors_patch(client, user.id, 43), "blocked", depends_on=["gone"]))
        reply = await client.batch.post(batch_request_content=content)
        assert reply.get_response_status_codes() == {"first": 204, "second": 204, "gone": 404, "blocked": 424}
        # The dependent PATCH ran after its dependency; the blocked one never ran.
        assert await num_vendors(client, user.id) == 42

    asyncio.run(scenario())


def test_collection_larger_than_20_is_split_automatically(sigil):
    client = v1_client(sigil)

    async def scenario():
        users = await demo_users(client)
        collection = BatchRequestContentCollection()
        # The SDK sends batches of 20 one after another. Inside a batch, requests without
        # dependsOn run in any order (some side by side, as on Graph), so a user's value is one of
        # those written to it by the last batch that wrote to it.
        expected = {}
        for index in range(45):
            user = users[index % len(users)]
            batch_number = index // 20
            if expected.get(user.id, (None, set()))[0] != batch_number:
                expected[user.id] = (batch_number, set())
            expected[user.id][1].add(100 + index)
            collection.add_batch_request_item(item(vendors_patch(client, user.id, 100 + index), f"step-{index}"))
        assert len(collection.get_batch_requests_for_execution()) == 3
        reply = await client.batch.post(batch_request_content=collection)
        # One BatchResponseContent per batch sent (its responses_status_codes property rejects them).
        assert len(reply.get_responses()) == 3
        codes = {}
        for content in reply.get_responses():
            codes.update(content.get_response_status_codes())
        assert len(codes) == 45
        assert set(codes.values()) == {204}
        for user_id, (_, counts) in expected.items():
            assert await num_vendors(client, user_id) in counts

    asyncio.run(scenario())
