"""Backup and restore of a PostgreSQL-backed Sigil with pg_dump and pg_restore: the procedure
docs/deployment.md gives, run end to end.

A server with the demo tenant takes changes through the API; the database is dumped with
`pg_dump --format=custom`; the server stops; the dump is restored into a new database; a server
started on that database is the same tenant: same tenant id, same credentials, the same users and
values, and it accepts a token the first server issued before the dump (the signing key is in the
database).

Runs in scripts/test's PostgreSQL pass, on a cluster of its own (it creates databases there)."""
import os
import subprocess
import tempfile
import urllib.parse

import pytest

from sigil_server import CLUSTER, SigilServer

pytestmark = pytest.mark.skipif(
    not os.environ.get("SIGIL_TEST_DATABASE_URL"), reason="runs in scripts/test's PostgreSQL pass")

BOOT_ID = "0b5c6e1a-5e57-4a1e-9b0b-5a1e0b5c6e1a"
BOOT_SECRET = "boot8Q~backup-restore-0123456789abcdefghij"
VALUE_SET = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"


class Server(SigilServer):
    """One `sigil serve` process on one database."""

    def __init__(self, url, *extra):
        super().__init__(url, *extra, boot_id=BOOT_ID, boot_secret=BOOT_SECRET)

    def read(self, path, token):
        """GET that must succeed, without the members that name this server's address."""
        status, answer = self.graph("GET", path, token, headers={"ConsistencyLevel": "eventual"})
        assert status == 200, (path, answer)
        return without_address(answer)


def without_address(answer):
    """@odata.context carries the server's base URL, which differs between the two servers."""
    if isinstance(answer, dict):
        assert "@odata.nextLink" not in answer, "the test expects every list on one page"
        return {k: without_address(v) for k, v in answer.items() if k != "@odata.context"}
    if isinstance(answer, list):
        return [without_address(v) for v in answer]
    return answer


def with_database(url, database):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


class Cluster:
    def __init__(self, directory, url):
        self.directory, self.url = directory, url
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.user = parts.hostname, str(parts.port), parts.username
        with open(os.path.join(directory, "bin")) as file:
            self.bin = file.read().strip()

    def run(self, tool, *args):
        """A PostgreSQL client program of the cluster's version, as the cluster's owner (like scripts/postgres-cluster)."""
        command = [os.path.join(self.bin, tool), "-h", self.host, "-p", self.port, "-U", self.user, *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{tool} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def cluster():
    directory = tempfile.mktemp(prefix="sigil-pg-backup-")
    try:
        url = subprocess.run([CLUSTER, "start", directory], check=True, capture_output=True, text=True).stdout.strip()
        yield Cluster(directory, url)
    finally:
        subprocess.run([CLUSTER, "stop", directory], check=False)


def user_id(server, token, name):
    status, users = server.graph("GET", f"/users?$filter=displayName eq '{name}'&$select=id", token)
    assert status == 200 and len(users["value"]) == 1, users
    return users["value"][0]["id"]


@pytest.fixture(scope="module")
def backup(cluster):
    """Changes, a dump, a restore into a new database, and a server on it. Yields what both saw."""
    seen = {}
    first = Server(cluster.url, "--demo")
    try:
        manager_id, manager_secret = first.demo_manager()
        admin, manager = first.token(), first.token(manager_id, manager_secret)
        joe = user_id(first, admin, "Joe")
        status, answer = first.graph("PATCH", f"/users/{joe}", manager, {"customSecurityAttributes": {
            "Engineering": {"@odata.type": VALUE_SET, "Project@odata.type": "#Collection(String)",
                            "Project": ["Cascade"], "NumVendors": 12},
            "Marketing": {"@odata.type": VALUE_SET, "EmployeeId": "BK00042"}}})
        assert status == 204, answer
        status, created = first.graph("POST", "/users", admin, {
            "accountEnabled": True, "displayName": "Backup Restore", "mailNickname": "backuprestore",
            "userPrincipalName": "backup.restore@sigil.local", "passwordProfile": {"password": "Backup-Restore-2026!"}})
        assert status == 201, created
        status, answer = first.graph("PATCH", f"/users/{created['id']}", manager, {"customSecurityAttributes": {
            "Marketing": {"@odata.type": VALUE_SET, "EmployeeId": "BK00043",
                          "AppCountry@odata.type": "#Collection(String)", "AppCountry": ["Chile", "Peru"]}}})
        assert status == 204, answer
        seen.update(
            tenant=first.tenant, manager=(manager_id, manager_secret), admin_token=admin, manager_token=manager,
            joe=joe, created=created["id"], before=snapshot(first, admin, manager, joe, created["id"]))

        cluster.run("pg_dump", "--format=custom", "--file", os.path.join(cluster.directory, "sigil.dump"), "postgres")

        # After the dump: must not be in the restored database.
        status, answer = first.graph("PATCH", f"/users/{joe}", manager, {"customSecurityAttributes": {
            "Marketing": {"@odata.type": VALUE_SET, "EmployeeId": "AFTER-DUMP"}}})
        assert status == 204, answer
    finally:
        first.stop()

    cluster.run("createdb", "restored")
    cluster.run("pg_restore", "--dbname", "restored", "--exit-on-error", os.path.join(cluster.directory, "sigil.dump"))
    restored = Server(with_database(cluster.url, "restored"))
    try:
        seen["restored"] = restored
        yield seen
    finally:
        restored.stop()


def snapshot(server, admin, manager, joe, created):
    """What the test compares across the restore, as JSON."""
    return {
        "users": server.read("/users", admin),
        "values": server.read("/users?$select=id,displayName,customSecurityAttributes", manager),
        "joe": server.read(f"/users/{joe}?$select=customSecurityAttributes", manager),
        "created": server.read(f"/users/{created}", admin),
        "created values": server.read(f"/users/{created}?$select=customSecurityAttributes", manager),
        "count": server.read("/users/$count?$filter=customSecurityAttributes/Marketing/EmployeeId eq 'BK00042'", manager),
        "sets": server.read("/directory/attributeSets", manager),
        "definitions": server.read("/directory/customSecurityAttributeDefinitions", manager),
    }


def test_the_restored_database_is_the_same_tenant(backup):
    restored = backup["restored"]
    assert restored.tenant == backup["tenant"]
    # The bootstrap app and the demo manager sign in with the secrets they had.
    restored.token()
    restored.token(*backup["manager"])


def test_users_and_values_read_back_identically(backup):
    restored = backup["restored"]
    after = snapshot(restored, restored.token(), restored.token(*backup["manager"]), backup["joe"], backup["created"])
    before = backup["before"]
    assert before["joe"]["customSecurityAttributes"]["Marketing"]["EmployeeId"] == "BK00042"
    assert before["count"] == 1
    for name in before:
        assert after[name] == before[name], name
    assert "Backup Restore" in {user["displayName"] for user in after["users"]["value"]}


def test_a_token_issued_before_the_dump_is_accepted(backup):
    restored = backup["restored"]
    status, users = restored.graph("GET", "/users?$select=id,displayName", backup["admin_token"])
    assert status == 200, users
    status, joe = restored.graph(
        "GET", f"/users/{backup['joe']}?$select=customSecurityAttributes", backup["manager_token"])
    assert status == 200, joe
    assert joe["customSecurityAttributes"]["Engineering"]["Project"] == ["Cascade"]


def test_a_change_after_the_dump_is_not_restored(backup):
    restored = backup["restored"]
    status, joe = restored.graph(
        "GET", f"/users/{backup['joe']}?$select=customSecurityAttributes", restored.token(*backup["manager"]))
    assert status == 200, joe
    assert joe["customSecurityAttributes"]["Marketing"]["EmployeeId"] == "BK00042"


def test_the_restored_server_takes_writes(backup):
    # The sequences came back with the rows: new rows do not collide with restored ones.
    restored = backup["restored"]
    admin = restored.token()
    status, created = restored.graph("POST", "/users", admin, {
        "accountEnabled": True, "displayName": "After Restore", "mailNickname": "afterrestore",
        "userPrincipalName": "after.restore@sigil.local", "passwordProfile": {"password": "After-Restore-2026!"}})
    assert status == 201, created
    status, answer = restored.graph("PATCH", f"/users/{created['id']}", restored.token(*backup["manager"]), {
        "customSecurityAttributes": {"Marketing": {"@odata.type": VALUE_SET, "EmployeeId": "BK00044"}}})
    assert status == 204, answer
