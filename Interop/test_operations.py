"""Operations against the real binary: TLS 1.2+ with certificate reload on SIGHUP (open
connections kept), signing key rotation picked up on SIGHUP, JSON logs with request ids and no
secrets, health and metrics, and graceful shutdown on SIGTERM."""
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import urllib.parse

import pytest

from conftest import SIGIL
from sigil_server import SigilServer

BOOT_ID = "6b1e7c1e-2d6f-4d8a-9a51-0a4f5c9d7e21"
BOOT_SECRET = "ops8Q~bootstrap-secret-not-for-logs-0123456789"


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory(prefix="sigil-ops-") as path:
        yield path


def dev_cert(directory, name):
    cert, key = os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}-key.pem")
    subprocess.run([SIGIL, "dev-cert", "--cert", cert, "--key", key], check=True, capture_output=True)
    return cert, key


def tls_context(*cafiles, minimum=ssl.TLSVersion.TLSv1_2, maximum=None):
    # Only the given CA files: other suites point SSL_CERT_FILE at another development
    # certificate with the same subject, which would shadow this one.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for cafile in cafiles:
        context.load_verify_locations(cafile)
    context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    return context


def fingerprint(connection):
    return hashlib.sha256(connection.sock.getpeercert(binary_form=True)).hexdigest()


def request(connection, method, path, body=None, headers=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read(), response


def token(connection, tenant, client_id=BOOT_ID, secret=BOOT_SECRET):
    body = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
        "scope": "https://graph.microsoft.com/.default"})
    status, text, _ = request(connection, "POST", f"/{tenant}/oauth2/v2.0/token", body,
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, text
    return json.loads(text)["access_token"]


def test_tls_is_1_2_or_later_and_sighup_reloads_the_certificate_without_dropping_connections(data_dir):
    cert, key = dev_cert(data_dir, "first")
    server = SigilServer(None, "--tls-cert", cert, "--tls-key", key, boot_id=BOOT_ID, boot_secret=BOOT_SECRET,
                         data=os.path.join(data_dir, "data"))
    try:
        port = int(server.base.rsplit(":", 1)[1])
        # TLS 1.1 (which this client is set to offer) is refused by the server's protocol alert.
        old = tls_context(cert, minimum=ssl.TLSVersion.TLSv1_1, maximum=ssl.TLSVersion.TLSv1_1)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with old.wrap_socket(raw, server_hostname="127.0.0.1"):
                    pass
        # TLS 1.2 works.
        tls12 = tls_context(cert, maximum=ssl.TLSVersion.TLSv1_2)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with tls12.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.version() == "TLSv1.2"

        kept = http.client.HTTPSConnection("127.0.0.1", port, context=tls_context(cert), timeout=30)
        assert request(kept, "GET", "/health/live")[0] == 200
        before = fingerprint(kept)

        # Renew: new files in place, then SIGHUP.
        second_cert, second_key = dev_cert(data_dir, "second")
        os.replace(second_cert, cert)
        os.replace(second_key, key)
        server.process.send_signal(signal.SIGHUP)
        # Both development certificates share one subject, which one trust store cannot tell
        # apart: look at what is served instead of verifying it.
        served = ssl.create_default_context()
        served.check_hostname = False
        served.verify_mode = ssl.CERT_NONE
        served.minimum_version = ssl.TLSVersion.TLSv1_2
        deadline_hits = 0
        after = before
        while after == before and deadline_hits < 50:
            fresh = http.client.HTTPSConnection("127.0.0.1", port, context=served, timeout=30)
            assert request(fresh, "GET", "/health/live")[0] == 200
            after = fingerprint(fresh)
            fresh.close()
            deadline_hits += 1
        assert after != before, "new connections still get the old certificate after SIGHUP"
        # The connection opened before the reload still answers.
        assert request(kept, "GET", "/health/ready")[0] == 200
        assert fingerprint(kept) == before
        kept.close()

        # A broken renewal leaves the current certificate serving.
        with open(cert, "w") as handle:
            handle.write("not a certificate")
        server.process.send_signal(signal.SIGHUP)
        again = http.client.HTTPSConnection("127.0.0.1", port, context=served, timeout=30)
        assert request(again, "GET", "/health/live")[0] == 200
        assert fingerprint(again) == after
        again.close()
        assert server.process.poll() is None
    finally:
        server.stop()


def test_json_logs_carry_request_ids_and_no_secrets_and_keys_rotate_on_sighup(data_dir):
    log = os.path.join(data_dir, "server.log")
    data = os.path.join(data_dir, "data")
    server = SigilServer(None, "--log-format", "json", "--access-log", "--log-level", "trace", boot_id=BOOT_ID,
                         boot_secret=BOOT_SECRET, data=data, log=log)
    try:
        port = int(server.base.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        access = token(connection, server.tenant)
        auth = {"Authorization": f"Bearer {access}"}
        status, _, response = request(connection, "GET", "/v1.0/users?$top=1", headers=auth)
        assert status == 200
        request_id = response.getheader("request-id")
        status, text, _ = request(connection, "GET", "/v1.0/users/missing-user-id", headers=auth)
        assert status == 404

        # Health and metrics answer without a token.
        assert request(connection, "GET", "/health/live")[0] == 200
        assert request(connection, "GET", "/health/ready")[0] == 200
        status, metrics, _ = request(connection, "GET", "/metrics")
        assert status == 200 and b'hb_requests{http_route="/v1.0/users"' in metrics

        # Rotate while the server runs; SIGHUP makes it switch at once.
        keys_before = json.loads(request(connection, "GET", f"/{server.tenant}/discovery/v2.0/keys")[1])["keys"]
        rotated = subprocess.run([SIGIL, "keys", "rotate", "--data-dir", data], capture_output=True, text=True)
        assert rotated.returncode == 0, rotated.stderr
        server.process.send_signal(signal.SIGHUP)
        keys_after = []
        for _ in range(50):
            keys_after = json.loads(request(connection, "GET", f"/{server.tenant}/discovery/v2.0/keys")[1])["keys"]
            if len(keys_after) == 2:
                break
            threading.Event().wait(0.1)
        assert len(keys_before) == 1 and len(keys_after) == 2
        assert keys_before[0]["kid"] in {key["kid"] for key in keys_after}
        # The old token still works and a new one is signed by the new key.
        assert request(connection, "GET", "/v1.0/users?$top=1", headers=auth)[0] == 200
        fresh = token(connection, server.tenant)
        header = json.loads(__import__("base64").urlsafe_b64decode(fresh.split(".")[0] + "=="))
        assert header["kid"] != keys_before[0]["kid"]
        assert request(connection, "GET", "/v1.0/users?$top=1", headers={"Authorization": f"Bearer {fresh}"})[0] == 200
        listed = subprocess.run([SIGIL, "keys", "list", "--data-dir", data], capture_output=True, text=True)
        assert header["kid"] in listed.stdout and "retired" in listed.stdout
        connection.close()
    finally:
        server.stop()
    lines = open(log).read().splitlines()
    assert lines, "the server logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "message"} <= entry.keys() for entry in entries)
    requests = [entry for entry in entries if entry["message"] == "request"]
    assert any(entry.get("request_id") == request_id and entry["route"] == "/v1.0/users" for entry in requests)
    assert any(entry["route"] == "/v1.0/users/{id}" and entry["status"] == "404" for entry in requests)
    text = open(log).read()
    for secret in (BOOT_SECRET, access, fresh, "missing-user-id"):
        assert secret not in text


def test_sigterm_finishes_requests_in_flight_and_exits_cleanly(data_dir):
    server = SigilServer(None, boot_id=BOOT_ID, boot_secret=BOOT_SECRET, data=os.path.join(data_dir, "data"))
    port = int(server.base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    access = token(connection, server.tenant)
    connection.close()
    outcomes, lock = [], threading.Lock()
    started = threading.Barrier(9)

    def client():
        mine = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started.wait()
        for _ in range(200):
            try:
                status, body, _ = request(mine, "GET", "/v1.0/users?$top=5",
                                          headers={"Authorization": f"Bearer {access}"})
                json.loads(body)  # a complete body, never a truncated one
                outcome = status
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest, OSError):
                outcome = "closed"
            with lock:
                outcomes.append(outcome)
            if outcome == "closed":
                return

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.wait()
    threading.Event().wait(0.3)
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(60)
    code = server.process.wait(timeout=30)
    server.stop()
    assert code == 0
    answered = [outcome for outcome in outcomes if outcome != "closed"]
    assert answered and set(answered) == {200}, set(outcomes)
