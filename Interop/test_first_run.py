"""A first start against the real binary: the data directory and every file in it are the owner's
alone, shared ones are refused unless allowed, the banner's curl line works under a self-signed
certificate, and the demo application gets a new secret from `sigil demo credentials`."""
import json
import os
import re
import stat
import subprocess
import tempfile
import urllib.parse

import pytest

from conftest import SIGIL, read_until
from sigil_server import SigilServer, call

BOOT_ID = "0d7c4f52-3b8e-4a61-9f20-5e1a7c3b9d48"
BOOT_SECRET = "first8Q~run-secret-0123456789abcdefghijk"
OVERRIDE = "--allow-shared-data-dir"


@pytest.fixture
def home():
    with tempfile.TemporaryDirectory(prefix="sigil-first-run-") as path:
        yield path


def usual_umask():
    """Runs the child with the common umask 022, under which files used to come out 0644."""
    os.umask(0o022)


def environment(**extra):
    """This process's environment without a database or bootstrap credentials of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSA_", "SIGIL_DATABASE_URL"))}
    return dict(env, **extra)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def sigil(*args, cwd=None):
    return subprocess.run([SIGIL, *args], capture_output=True, text=True, cwd=cwd, env=environment(),
                          preexec_fn=usual_umask, timeout=120)


def serve(data, *extra, generated=False):
    """Starts `sigil serve` on `data` (known bootstrap credentials, or generated ones written to the
    data directory); the caller stops it."""
    known = {} if generated else {"CSA_BOOTSTRAP_CLIENT_ID": BOOT_ID, "CSA_BOOTSTRAP_CLIENT_SECRET": BOOT_SECRET}
    env = environment(**known)
    return subprocess.Popen(
        [SIGIL, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data, "--password-hash-rounds", "1000",
         *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, preexec_fn=usual_umask)


def stop(process):
    process.terminate()
    process.wait(timeout=15)


def test_the_data_directory_is_0700_and_every_file_in_it_0600(home):
    data = os.path.join(home, "data")
    process = serve(data, "--demo", generated=True)
    try:
        read_until(process, "Demo users sign in")
        database = os.path.join(data, "sigil.sqlite")
        # The WAL and shared-memory files exist while the server runs.
        files = [database, database + "-wal", database + "-shm", os.path.join(data, "bootstrap-credentials.json")]
        assert mode(data) == 0o700
        assert {path: mode(path) for path in files} == {path: 0o600 for path in files}
    finally:
        stop(process)

    # dev-cert's default place is the data directory: made 0700, the certificate and key 0600.
    made = sigil("dev-cert", cwd=home)
    assert made.returncode == 0, made.stderr
    default = os.path.join(home, "sigil-data")
    assert mode(default) == 0o700
    assert mode(os.path.join(default, "dev-cert.pem")) == 0o600
    assert mode(os.path.join(default, "dev-key.pem")) == 0o600


def refused(result, path):
    """The command failed with one line on standard error naming `path` and the override."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert path in lines[0] and OVERRIDE in lines[0], lines[0]
    return lines[0]


def test_shared_data_directories_and_databases_are_refused_unless_allowed(home):
    data = os.path.join(home, "data")
    process = serve(data)
    read_until(process, "Token URL")
    stop(process)
    database = os.path.join(data, "sigil.sqlite")

    os.chmod(data, 0o755)
    for command in (["serve", "--port", "0"], ["keys", "list"], ["keys", "rotate"], ["audit", "verify"],
                    ["demo", "credentials"]):
        line = refused(sigil(*command, "--data-dir", data), data)
        assert "mode 0755" in line
    os.chmod(data, 0o700)

    for path, shared in ((database, 0o644), (database + "-wal", 0o640), (database + "-shm", 0o604)):
        if not os.path.exists(path):
            open(path, "w").close()  # an empty WAL or SHM file is one SQLite rebuilds
        os.chmod(path, shared)
        refused(sigil("serve", "--port", "0", "--data-dir", data), path)
        refused(sigil("keys", "list", "--data-dir", data), path)
        os.chmod(path, 0o600)
    os.chmod(database, 0o644)

    # The override lets both start, and leaves the operator's modes alone.
    listed = sigil("keys", "list", "--data-dir", data, OVERRIDE)
    assert listed.returncode == 0, listed.stderr
    process = serve(data, OVERRIDE)
    try:
        read_until(process, "Token URL")
    finally:
        stop(process)
    assert mode(database) == 0o644


def test_the_banner_curl_line_gets_a_token_under_a_self_signed_certificate(home):
    cert, key = os.path.join(home, "cert.pem"), os.path.join(home, "key.pem")
    assert sigil("dev-cert", "--cert", cert, "--key", key).returncode == 0
    # No bootstrap credentials given: the banner prints the generated secret and the curl line.
    process = subprocess.Popen(
        [SIGIL, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", os.path.join(home, "data"),
         "--tls-cert", cert, "--tls-key", key],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=environment())
    try:
        banner = read_until(process, "--data-urlencode scope=")
        command = banner.split("Get a token:\n", 1)[1]
        assert f"curl -s --cacert {cert} https://127.0.0.1:" in command
        # Exactly as printed, trusting no certificate the test environment names.
        trusting_nothing = {k: v for k, v in environment().items() if k not in ("SSL_CERT_FILE", "CURL_CA_BUNDLE")}
        run = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, env=trusting_nothing)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["token_type"] == "Bearer"
    finally:
        stop(process)


def test_demo_credentials_mints_a_secret_that_gets_a_token(home):
    data = os.path.join(home, "data")
    server = SigilServer(None, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET, data=data)
    try:
        client_id, first_secret = server.demo_manager()
        assert f"sigil demo credentials --data-dir {data}" in server.banner
        for name in ("isabella", "chandra", "dara", "alain"):
            assert f"{name}@sigil.local" in server.banner
        # While the server runs, on the same database.
        made = sigil("demo", "credentials", "--data-dir", data)
        assert made.returncode == 0, made.stderr
        assert re.search(r"client id:\s+(\S+)", made.stdout).group(1) == client_id
        assert re.search(r"tenant id:\s+(\S+)", made.stdout).group(1) == server.tenant
        secret = re.search(r"client secret:\s+(\S+)", made.stdout).group(1)
        assert secret != first_secret
        for each in (secret, first_secret):
            token = server.token(client_id, each)
            status, sets = server.graph("GET", "/directory/attributeSets", token)
            assert status == 200 and {s["id"] for s in sets["value"]} >= {"Engineering", "Marketing"}
        # A demo user signs in with the printed password and sees what the role shows.
        body = urllib.parse.urlencode({
            "grant_type": "password", "client_id": BOOT_ID, "username": "dara@sigil.local",
            "password": re.search(r"with password (\S+)", server.banner).group(1),
            "scope": "https://graph.microsoft.com/.default"}).encode()
        status, answer = call("POST", f"{server.base}/{server.tenant}/oauth2/v2.0/token", body=body,
                              content_type="application/x-www-form-urlencoded")
        assert status == 200, answer
        status, users = server.graph(
            "GET", "/users?$filter=displayName eq 'Joe'&$select=customSecurityAttributes", answer["access_token"])
        assert status == 200, users
        seen = users["value"][0]["customSecurityAttributes"]
        assert list(seen) == ["Marketing"] and seen["Marketing"]["EmployeeId"] == "GS45897"
    finally:
        server.stop()

    # A later start names the command instead of the secret.
    again = SigilServer(None, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET, data=data)
    try:
        assert "a new secret: sigil demo credentials" in again.banner
    finally:
        again.stop()

    plain = os.path.join(home, "plain")
    process = serve(plain)
    read_until(process, "Token URL")
    stop(process)
    missing = sigil("demo", "credentials", "--data-dir", plain)
    assert missing.returncode == 1
    assert "has no demo data" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
