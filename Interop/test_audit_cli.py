"""The audit log end to end: a real server records changes, `sigil audit verify` and
`sigil audit export` read its database from outside, a record edited in the database is found,
`--audit-retention-days` prunes and the chain still verifies, and attribute values stay out of
the server's log."""
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import SIGIL
from sigil_server import SigilServer

BOOT_ID = str(uuid.uuid4())
BOOT_SECRET = "boot8Q~audit-cli-secret-0123456789abcdefgh"
SECRET_VALUE = "ZQ-secret-7731"
VALUE_TYPE = "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"


def sigil_cli(*args):
    return subprocess.run([SIGIL, *args], capture_output=True, text=True, timeout=120)


def demo_server(data, *extra, url=None, log=None):
    return SigilServer(url, "--demo", *extra, boot_id=BOOT_ID, boot_secret=BOOT_SECRET, data=data, log=log)


def assign_employee_id(server, token, value):
    """Sets Marketing/EmployeeId of the demo user Jiya; returns the user's id."""
    status, users = server.graph("GET", "/users?$filter=startsWith(displayName,'Jiya')&$select=id", token)
    assert status == 200, users
    user_id = users["value"][0]["id"]
    status, answer = server.graph("PATCH", f"/users/{user_id}", token, {
        "customSecurityAttributes": {"Marketing": {"@odata.type": VALUE_TYPE, "EmployeeId": value}}})
    assert status == 204, answer
    return user_id


def audits(server, token, query=""):
    status, answer = server.graph("GET", f"/auditLogs/customSecurityAttributeAudits{query}", token, version="beta")
    assert status == 200, answer
    return answer["value"]


@pytest.fixture
def data_dir():
    path = tempfile.mkdtemp(prefix="sigil-audit-cli-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_verify_export_tamper_and_retention_on_sqlite(data_dir):
    log = os.path.join(data_dir, "server.log")
    server = demo_server(data_dir, "--log-level", "trace", log=log)
    manager = server.demo_manager()  # printed on the first start only
    try:
        token = server.token(*manager)
        user_id = assign_employee_id(server, token, SECRET_VALUE)
        # Reads that carry the value in the URL, too.
        status, _ = server.graph(
            "GET", f"/users?$filter=customSecurityAttributes/Marketing/EmployeeId eq '{SECRET_VALUE}'&$count=true",
            token, headers={"ConsistencyLevel": "eventual"})
        assert status == 200
        records = audits(server, token, f"?$filter=targetResources/any(t: t/id eq '{user_id}')")
        assert len(records) == 1
        assert records[0]["initiatedBy"]["app"]["ipAddress"] == "127.0.0.1"
        assert records[0]["initiatedBy"]["app"]["displayName"] == "Sigil Demo Attribute Manager"
        changed = records[0]["targetResources"][0]["modifiedProperties"]
        assert {"displayName": "Marketing_EmployeeId", "oldValue": '["KX19476"]', "newValue": f'["{SECRET_VALUE}"]'} in changed
    finally:
        server.stop()

    # The server's log, at its most verbose, never holds an attribute value.
    with open(log) as text:
        assert SECRET_VALUE not in text.read()

    verify = sigil_cli("audit", "verify", "--data-dir", data_dir)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "intact: 1 records" in verify.stdout
    verified = json.loads(sigil_cli("audit", "verify", "--data-dir", data_dir, "--output", "json").stdout)
    assert verified == {"intact": True, "records": 1, "headHash": verified["headHash"], "unsealed": 0}
    assert verified["headHash"] in verify.stdout

    export = sigil_cli("audit", "export", "--data-dir", data_dir, "--since", "2000-01-01", "--format", "jsonl")
    assert export.returncode == 0, export.stderr
    lines = [json.loads(line) for line in export.stdout.splitlines()]
    assert [line["id"] for line in lines] == [records[0]["id"]]
    assert lines[0]["activityDisplayName"] == "Update attribute values assigned to a user"
    future = sigil_cli("audit", "export", "--data-dir", data_dir, "--since", "2999-01-01T00:00:00Z")
    assert future.returncode == 0 and future.stdout == ""
    bad = sigil_cli("audit", "export", "--data-dir", data_dir, "--format", "csv")
    assert bad.returncode == 2 and "jsonl" in bad.stderr

    # Someone edits the record behind Sigil's back: verify names it and fails.
    database = sqlite3.connect(os.path.join(data_dir, "sigil.sqlite"))
    database.execute("UPDATE audit_records SET record = replace(record, ?, 'ZQ-secret-0000')", (SECRET_VALUE,))
    database.commit()
    tampered = sigil_cli("audit", "verify", "--data-dir", data_dir)
    assert tampered.returncode == 1
    assert f"BROKEN at record 1 (id {records[0]['id']})" in tampered.stdout
    broken = sigil_cli("audit", "verify", "--data-dir", data_dir, "--output", "json")
    assert broken.returncode == 1
    assert json.loads(broken.stdout) == {"intact": False, "brokenAt": 1, "id": records[0]["id"],
                                         "reason": json.loads(broken.stdout)["reason"]}
    assert json.loads(broken.stdout)["reason"] in tampered.stdout
    database.execute("UPDATE audit_records SET record = replace(record, 'ZQ-secret-0000', ?)", (SECRET_VALUE,))
    # Make the record old (the time column serves filters and pruning; the hashed JSON is untouched).
    database.execute("UPDATE audit_records SET activity_date_time = '2020-01-01T00:00:00.0000000Z'")
    database.commit()
    database.close()
    assert sigil_cli("audit", "verify", "--data-dir", data_dir).returncode == 0

    server = demo_server(data_dir, "--audit-retention-days", "30")
    try:
        token = server.token(*manager)
        deadline = time.time() + 30
        while audits(server, token) and time.time() < deadline:
            time.sleep(0.2)
        assert audits(server, token) == []
        assign_employee_id(server, token, "GS-after-pruning")
        assert len(audits(server, token)) == 1
    finally:
        server.stop()
    verify = sigil_cli("audit", "verify", "--data-dir", data_dir)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "intact: 1 records" in verify.stdout


def test_keys_list_as_json(data_dir):
    listed = sigil_cli("keys", "list", "--data-dir", data_dir, "--output", "json")
    assert listed.returncode == 1 and "no Sigil database" in listed.stderr
    demo_server(data_dir).stop()
    first = json.loads(sigil_cli("keys", "list", "--data-dir", data_dir, "--output", "json").stdout)
    assert [(key["status"], key["retired"], key["verifiesUntil"]) for key in first] == [("signing", None, None)]
    assert sigil_cli("keys", "rotate", "--data-dir", data_dir).returncode == 0
    keys = json.loads(sigil_cli("keys", "list", "--data-dir", data_dir, "--output", "json").stdout)
    assert [key["status"] for key in keys] == ["signing", "retired"]
    assert keys[1]["kid"] == first[0]["kid"] and keys[1]["created"] == first[0]["created"]
    # Retired keys verify for a token's lifetime (3599 s) plus clock skew (60 s).
    retired, until = (datetime.datetime.fromisoformat(keys[1][name].replace("Z", "+00:00")) for name in ("retired", "verifiesUntil"))
    assert (until - retired).total_seconds() == 3659
    table = sigil_cli("keys", "list", "--data-dir", data_dir).stdout
    assert all(key["kid"] in table for key in keys)


def test_cli_refuses_a_missing_database(data_dir):
    missing = os.path.join(data_dir, "nothing-here")
    result = sigil_cli("audit", "verify", "--data-dir", missing)
    assert result.returncode == 1
    assert result.stderr.startswith("sigil: There is no Sigil database")
    assert not os.path.exists(os.path.join(missing, "sigil.sqlite"))


@pytest.mark.skipif(not os.environ.get("SIGIL_TEST_DATABASE_URL"), reason="needs scripts/test's PostgreSQL pass")
def test_verify_and_export_on_postgresql(data_dir):
    base = os.environ["SIGIL_TEST_DATABASE_URL"]
    url = f"{base}{'&' if '?' in base else '?'}schema=audit_cli_{os.getpid()}"
    server = demo_server(data_dir, url=url)
    try:
        token = server.token(*server.demo_manager())
        assign_employee_id(server, token, "GS-on-postgres")
        assign_employee_id(server, token, "GS-on-postgres-2")
    finally:
        server.stop()
    verify = sigil_cli("audit", "verify", "--database-url", url)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "intact: 2 records" in verify.stdout
    export = sigil_cli("audit", "export", "--database-url", url)
    values = [json.loads(line)["targetResources"][0]["modifiedProperties"][0]["newValue"] for line in export.stdout.splitlines()]
    assert values == ['["GS-on-postgres"]', '["GS-on-postgres-2"]']
