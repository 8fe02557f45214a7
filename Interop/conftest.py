"""Starts a real `sigil serve` (demo data, TLS with a fresh dev certificate) for the interop tests."""
import os
import re
import shutil
import queue
import signal
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIGIL = os.environ.get("SIGIL_BIN", os.path.join(ROOT, ".build", "debug", "sigil"))


class Sigil:
    """A running server: its https base URL, tenant, demo app credentials and CA file."""

    def __init__(self, process, base, tenant, client_id, client_secret, cert):
        self.process = process
        self.base = base
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.cert = cert


def read_banner(process, timeout=60):
    return read_until(process, "Demo users sign in", timeout)


def read_until(process, marker, timeout=60):
    """Reads stdout (on a thread, so a silent server cannot hang us) until a line holds `marker`."""
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    text = ""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        text += line
        if marker in line:
            return text
    raise RuntimeError(f"sigil serve did not start (exit {process.poll()}); output so far:\n{text}")


@pytest.fixture(scope="session")
def sigil():
    assert os.path.exists(SIGIL), f"build the server first: {SIGIL} is missing"
    data = tempfile.mkdtemp(prefix="sigil-interop-")
    cert, key = os.path.join(data, "cert.pem"), os.path.join(data, "key.pem")
    subprocess.run([SIGIL, "dev-cert", "--cert", cert, "--key", key], check=True, capture_output=True)
    # scripts/test's PostgreSQL pass runs the same tests on a fresh schema of its cluster.
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    store = ["--database-url", f"{database}{'&' if '?' in database else '?'}schema=interop_{os.getpid()}"] if database else []
    process = subprocess.Popen(
        [SIGIL, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data, "--demo",
         "--password-hash-rounds", "1000", "--tls-cert", cert, "--tls-key", key, *store],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        banner = read_banner(process)
        base = re.search(r"Sigil is listening on (\S+)", banner).group(1)
        tenant = re.search(r"Tenant id:\s+(\S+)", banner).group(1)
        demo = re.search(r"Demo attribute manager.*?client id:\s+(\S+).*?client secret:\s+(\S+)", banner, re.S)
        # Both HTTP stacks the SDKs use (requests for azure-identity, httpx for Kiota) trust it.
        os.environ["SSL_CERT_FILE"] = cert
        os.environ["REQUESTS_CA_BUNDLE"] = cert
        yield Sigil(process, base, tenant, demo.group(1), demo.group(2), cert)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # The demo's database, its secrets and the certificate's private key go with the server.
        shutil.rmtree(data, ignore_errors=True)
