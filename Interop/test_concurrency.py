"""No lost updates: concurrent PATCHes of one user's attribute values, each answered 204, all land.

8 clients send 200 PATCHes each, one after another on a persistent connection, to the same user:
(a) every client writes only its own attribute (Int32, String and String collections in one set),
so a read-modify-write of the user's values that races another would drop a client's write; at
the end each attribute holds its client's last value, and $count finds it on that one user.
(b) every client writes the same collection attribute with whole collections of its own; the
final value is exactly one of them, and the last write of some client (never a mix of two).

Runs against a server of its own: SQLite, or in scripts/test's PostgreSQL pass a fresh schema of
SIGIL_TEST_DATABASE_URL."""
import concurrent.futures
import http.client
import json
import os
import urllib.parse
import uuid

import pytest

from sigil_server import SigilServer

BOOT_ID = str(uuid.uuid4())
BOOT_SECRET = "boot8Q~concurrency-0123456789abcdefghijklm"
VALUE_SET = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"
SET = "Concurrency"
CLIENTS = 8
REQUESTS = 200
# Client i's attribute in test (a): its type, and the value its n-th request writes.
KINDS = ["Int32", "String", "Collection"]


def kind(client):
    return KINDS[client % len(KINDS)]


def own_value(client, n):
    return {"Int32": 1000 * client + n, "String": f"c{client}-{n:03d}",
            "Collection": [f"c{client}-{n}a", f"c{client}-{n}b"]}[kind(client)]


def own_attribute(client, n):
    name, value = f"Own{client}", own_value(client, n)
    typed = {"Int32": "#Int32", "String": "#String", "Collection": "#Collection(String)"}[kind(client)]
    return {f"{name}@odata.type": typed, name: value}


def shared_value(client, n):
    return [f"c{client}-{n}a", f"c{client}-{n}b", f"c{client}-{n}c"]


@pytest.fixture(scope="module")
def server():
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=concurrency_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    try:
        server.admin = server.token()
        server.manager = server.token(*server.demo_manager())
        status, answer = server.graph("POST", "/directory/attributeSets", server.manager,
                                      {"id": SET, "description": "concurrent writers", "maxAttributesPerSet": 25})
        assert status == 201, answer
        definitions = [(f"Own{i}", "Integer" if kind(i) == "Int32" else "String", kind(i) == "Collection")
                       for i in range(CLIENTS)] + [("Shared", "String", True)]
        for name, type_, collection in definitions:
            status, answer = server.graph("POST", "/directory/customSecurityAttributeDefinitions", server.manager, {
                "attributeSet": SET, "name": name, "type": type_, "status": "Available",
                "isCollection": collection, "isSearchable": True, "usePreDefinedValuesOnly": False})
            assert status == 201, answer
        yield server
    finally:
        server.stop()


def new_user(server, name):
    status, user = server.graph("POST", "/users", server.admin, {
        "accountEnabled": True, "displayName": name, "mailNickname": name.lower(),
        "userPrincipalName": f"{name.lower()}@sigil.local", "passwordProfile": {"password": "Concurrency-2026!"}})
    assert status == 201, user
    return user["id"]


def patch_concurrently(server, user, body_for):
    """CLIENTS threads, each sending REQUESTS PATCHes with body_for(client, n) on its own connection.
    Returns each client's last n answered 204 and every answer that was not 204."""
    parts = urllib.parse.urlsplit(server.base)
    headers = {"Authorization": f"Bearer {server.manager}", "Content-Type": "application/json"}

    def client(index):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        last, failures = None, []
        try:
            for n in range(REQUESTS):
                body = json.dumps({"customSecurityAttributes": {SET: {"@odata.type": VALUE_SET, **body_for(index, n)}}})
                connection.request("PATCH", f"/v1.0/users/{user}", body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode(errors="replace")
                if response.status == 204:
                    last = n
                else:
                    failures.append(f"client {index} request {n}: {response.status} {text[:500]}")
        finally:
            connection.close()
        return last, failures

    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    failures = [failure for _, found in results for failure in found]
    assert not failures, f"{len(failures)} PATCHes not answered 204, first ones:\n" + "\n".join(failures[:10])
    return [last for last, _ in results]


def values_of(server, user):
    status, answer = server.graph("GET", f"/users/{user}?$select=customSecurityAttributes", server.manager)
    assert status == 200, answer
    return (answer.get("customSecurityAttributes") or {}).get(SET) or {}


def test_concurrent_writers_of_different_attributes_lose_nothing(server):
    user = new_user(server, "ConcurrentOwn")
    last = patch_concurrently(server, user, own_attribute)
    assert last == [REQUESTS - 1] * CLIENTS
    values = values_of(server, user)
    expected = {f"Own{i}": own_value(i, REQUESTS - 1) for i in range(CLIENTS)}
    found = {name: values.get(name) for name in expected}
    assert found == expected, {name: (found[name], value) for name, value in expected.items() if found[name] != value}
    # The values the filters search agree: exactly this user holds each final value.
    for i in range(CLIENTS):
        value = own_value(i, REQUESTS - 1)
        literal = value if kind(i) == "Int32" else f"'{value[0] if kind(i) == 'Collection' else value}'"
        condition = f"customSecurityAttributes/{SET}/Own{i} eq {literal}"
        status, count = server.graph("GET", "/users/$count?$filter=" + urllib.parse.quote(condition),
                                     server.manager, headers={"ConsistencyLevel": "eventual"})
        assert status == 200 and count == 1, (condition, status, count)


def test_concurrent_writers_of_one_collection_leave_one_whole_write(server):
    user = new_user(server, "ConcurrentShared")
    last = patch_concurrently(server, user, lambda client, n: {
        "Shared@odata.type": "#Collection(String)", "Shared": shared_value(client, n)})
    assert last == [REQUESTS - 1] * CLIENTS
    final = values_of(server, user).get("Shared")
    candidates = [shared_value(client, REQUESTS - 1) for client in range(CLIENTS)]
    # The write that committed last is its client's last: nothing of any client came after it.
    assert final in candidates, f"{final!r} is not the last write of any client"
    writer = candidates.index(final)
    # The values the filters search agree: the last writer's strings are found, no other's are.
    for client in range(CLIENTS):
        condition = f"customSecurityAttributes/{SET}/Shared eq '{shared_value(client, REQUESTS - 1)[1]}'"
        status, count = server.graph("GET", "/users/$count?$filter=" + urllib.parse.quote(condition),
                                     server.manager, headers={"ConsistencyLevel": "eventual"})
        assert status == 200 and count == (1 if client == writer else 0), (condition, status, count)
