"""A `sigil serve` process (on a PostgreSQL database, or on SQLite in its data directory), driven
over plain HTTP with the standard library: shared by the suites that start servers of their own."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from conftest import ROOT, SIGIL, read_until

CLUSTER = os.path.join(ROOT, "scripts", "postgres-cluster")


def call(method, url, token=None, body=None, content_type="application/json", headers=None):
    """One HTTP request; returns (status, parsed JSON body or None), errors included."""
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, json.loads(text) if text else None


def steal_seconds():
    """Time the hypervisor gave this machine's CPUs to others (/proc/stat's steal, all CPUs). On a
    shared host it comes as whole-machine pauses of about 100 ms, which land in any latency or
    rate measured meanwhile, so benches report it beside their figures."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def generated_tenant(users, boot_id, boot_secret, prefix="sigil-generated-"):
    """A new data directory holding `users` generated users (`sigil-bench generate`, beside the
    `sigil` binary in use), bootstrapped with (boot_id, boot_secret). Returns (directory, facts):
    facts is the generator's bench.json, whose clientId/clientSecret hold the attribute roles."""
    data = os.path.join(tempfile.mkdtemp(prefix=prefix), "data")
    generator = os.path.join(os.path.dirname(os.path.abspath(SIGIL)), "sigil-bench")
    started = time.perf_counter()
    subprocess.run([generator, "generate", "--data-dir", data, "--users", str(users), "--seed", "42"], check=True,
                   stdout=subprocess.DEVNULL,
                   env=dict(os.environ, CSA_BOOTSTRAP_CLIENT_ID=boot_id, CSA_BOOTSTRAP_CLIENT_SECRET=boot_secret))
    print(f"generated {users:,} users in {time.perf_counter() - started:.0f} s", flush=True)
    # The new database's pages go to disk now, not while the load is measured.
    os.sync()
    with open(os.path.join(data, "bench.json")) as facts:
        return data, json.load(facts)


class SigilServer:
    """`sigil serve` on `url` (None: SQLite in `data`, a new temporary directory by default) with
    known bootstrap credentials; `stop()` ends it and removes the data directory it created.
    With `log`, the server's log (standard error) goes to that file."""

    def __init__(self, url, *extra, boot_id, boot_secret, data=None, log=None):
        self.boot_id, self.boot_secret = boot_id, boot_secret
        self.owns_data = data is None
        self.data = data or tempfile.mkdtemp(prefix="sigil-server-")
        env = dict(os.environ, CSA_BOOTSTRAP_CLIENT_ID=boot_id, CSA_BOOTSTRAP_CLIENT_SECRET=boot_secret)
        database = ["--database-url", url] if url else []
        self.log = open(log, "a") if log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [SIGIL, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", self.data, *database,
             "--password-hash-rounds", "1000", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        try:
            self.banner = read_until(self.process, "Demo users sign in" if "--demo" in extra else "Token URL")
        except BaseException:
            self.stop()
            raise
        self.base = re.search(r"Sigil is listening on (\S+)", self.banner).group(1)
        self.tenant = re.search(r"Tenant id:\s+(\S+)", self.banner).group(1)

    def demo_manager(self):
        """The demo attribute manager's (client id, secret), as the --demo banner printed them."""
        found = re.search(r"Demo attribute manager.*?client id:\s+(\S+).*?client secret:\s+(\S+)", self.banner, re.S)
        return found.group(1), found.group(2)

    def token(self, client_id=None, secret=None):
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": client_id or self.boot_id,
            "client_secret": secret or self.boot_secret, "scope": "https://graph.microsoft.com/.default"}).encode()
        status, answer = call("POST", f"{self.base}/{self.tenant}/oauth2/v2.0/token", body=body,
                              content_type="application/x-www-form-urlencoded")
        assert status == 200, answer
        return answer["access_token"]

    def application(self, name, role):
        """A new application and service principal holding `role` (a role template id) at tenant
        scope, made with the bootstrap credentials: (service principal id, token)."""
        boot = self.token()
        status, app = self.graph("POST", "/applications", boot, {"displayName": name})
        assert status == 201, app
        status, principal = self.graph("POST", "/servicePrincipals", boot, {"appId": app["appId"]})
        assert status == 201, principal
        status, secret = self.graph("POST", f"/applications/{app['id']}/addPassword", boot, {"passwordCredential": {}})
        assert status == 200, secret
        status, grant = self.graph("POST", "/roleManagement/directory/roleAssignments", boot, {
            "principalId": principal["id"], "roleDefinitionId": role, "directoryScopeId": "/"})
        assert status == 201, grant
        return principal["id"], self.token(app["appId"], secret["secretText"])

    def graph(self, method, path, token, body=None, headers=None, version="v1.0"):
        path = urllib.parse.quote(path, safe="/?$=&,'()%:@")
        return call(method, f"{self.base}/{version}{path}", token=token,
                    body=None if body is None else json.dumps(body).encode(), headers=headers)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()
        if self.owns_data:
            shutil.rmtree(self.data, ignore_errors=True)
