"""Delta queries through msgraph-sdk's own request builders, and change notifications to a
webhook receiver on a loopback port: the validation handshake, clientState in every
notification, basic notifications only, and commit order per subscription."""
import asyncio
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder

from test_graph_sdks import GRAPH_SCOPE, SET_TYPE, v1_client


class Receiver:
    """A webhook endpoint: echoes validation tokens (unless told not to), records notifications."""

    def __init__(self):
        self.notifications = []
        self.echo = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                query = parse_qs(urlparse(self.path).query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if "validationToken" in query:
                    token = query["validationToken"][0] if receiver.echo else "wrong"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(token.encode())
                    return
                for item in json.loads(body)["value"]:
                    receiver.notifications.append((urlparse(self.path).path, item))
                self.send_response(202)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def token(sigil):
    reply = requests.post(
        f"{sigil.base}/{sigil.tenant}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": sigil.client_id,
              "client_secret": sigil.client_secret, "scope": GRAPH_SCOPE},
        verify=sigil.cert, timeout=30)
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def expiry(minutes):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_users(sigil, headers):
    reply = requests.get(f"{sigil.base}/v1.0/users?$select=id,displayName", headers=headers, verify=sigil.cert, timeout=30)
    reply.raise_for_status()
    return reply.json()["value"]


def set_vendors(sigil, headers, user_id, count):
    reply = requests.patch(
        f"{sigil.base}/v1.0/users/{user_id}", headers=headers, verify=sigil.cert, timeout=30,
        json={"customSecurityAttributes": {"Engineering": {"@odata.type": SET_TYPE, "NumVendors@odata.type": "#Int32",
                                                           "NumVendors": count}}})
    assert reply.status_code == 204, reply.text


def test_sdk_delta_request_builders_page_and_track_attribute_changes(sigil):
    client = v1_client(sigil)
    headers = token(sigil)

    async def scenario():
        config = RequestConfiguration(
            query_parameters=DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(select=["id", "displayName", "customSecurityAttributes"]))
        page = await client.users.delta.get(request_configuration=config)
        seen = [u.id for u in page.value]
        while page.odata_next_link:
            page = await client.users.delta.with_url(page.odata_next_link).get()
            seen += [u.id for u in page.value]
        assert page.odata_delta_link, "the initial round ends with a deltaLink"
        users = demo_users(sigil, headers)
        assert set(seen) == {u["id"] for u in users}

        target = users[0]["id"]
        set_vendors(sigil, headers, target, 7)
        changes = await client.users.delta.with_url(page.odata_delta_link).get()
        assert [u.id for u in changes.value] == [target]
        values = changes.value[0].custom_security_attributes.additional_data["Engineering"]
        assert values["NumVendors"] == 7
        assert changes.odata_delta_link
        quiet = await client.users.delta.with_url(changes.odata_delta_link).get()
        assert quiet.value == []

    asyncio.run(scenario())


def test_webhook_handshake_client_state_and_commit_order(sigil, receiver):
    headers = token(sigil)
    body = {"changeType": "updated,deleted", "resource": "users",
            "notificationUrl": f"http://127.0.0.1:{receiver.port}/hook",
            "lifecycleNotificationUrl": f"http://localhost:{receiver.port}/lifecycle",
            "clientState": "interop-state", "expirationDateTime": expiry(60)}

    receiver.echo = False
    refused = requests.post(f"{sigil.base}/v1.0/subscriptions", headers=headers, json=body, verify=sigil.cert, timeout=30)
    assert refused.status_code == 400, refused.text
    receiver.echo = True
    created = requests.post(f"{sigil.base}/v1.0/subscriptions", headers=headers, json=body, verify=sigil.cert, timeout=30)
    assert created.status_code == 201, created.text
    subscription = created.json()
    try:
        users = [u["id"] for u in demo_users(sigil, headers)]
        order = users + users[::-1]
        for i, user_id in enumerate(order):
            set_vendors(sigil, headers, user_id, 10 + i)
        deadline = time.time() + 30
        while time.time() < deadline and len([n for p, n in receiver.notifications if p == "/hook"]) < len(order):
            time.sleep(0.2)
        got = [n for p, n in receiver.notifications if p == "/hook"]
        assert [n["resourceData"]["id"] for n in got] == order, "commit order, each change once"
        for n in got:
            assert n["clientState"] == "interop-state"
            assert n["subscriptionId"] == subscription["id"]
            assert n["changeType"] == "updated"
            assert n["resource"] == f"Users/{n['resourceData']['id']}"
            assert "NumVendors" not in json.dumps(n), "basic notifications carry no values"
    finally:
        requests.delete(f"{sigil.base}/v1.0/subscriptions/{subscription['id']}", headers=headers, verify=sigil.cert, timeout=30)


def test_cli_watch_prints_changes_and_resumes_where_it_stopped(tmp_path):
    import os
    import subprocess
    import uuid

    from sigil_server import SIGIL, SigilServer

    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=watch_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=str(uuid.uuid4()), boot_secret="boot8Q~watch-tests-0123456789abcdefghijk")
    try:
        env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))

        def cli(*args):
            result = subprocess.run([SIGIL, *args], capture_output=True, text=True, env=env, timeout=60)
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout

        client_id, secret = server.demo_manager()
        cli("login", "--server", server.base, "--client-id", client_id, f"--client-secret={secret}")
        assert "Watching users from now on." in cli("watch", "users", "--once")
        assert cli("watch", "users", "--once") == "", "nothing changed since the last run"

        manager = server.token(client_id, secret)
        status, users = server.graph("GET", "/users?$select=id", manager)
        target = users["value"][0]["id"]
        status, _ = server.graph("PATCH", f"/users/{target}", manager, {"customSecurityAttributes": {"Engineering": {
            "@odata.type": SET_TYPE, "NumVendors@odata.type": "#Int32", "NumVendors": 42}}})
        assert status == 204
        printed = cli("watch", "users", "--once", "--output", "json")
        entries = [json.loads(line) for line in printed.splitlines()]
        assert [e["id"] for e in entries] == [target]
        assert entries[0]["customSecurityAttributes"]["Engineering"]["NumVendors"] == 42
        assert cli("watch", "users", "--once") == "", "resumed from the saved deltaLink: the change is not repeated"
    finally:
        server.stop()
