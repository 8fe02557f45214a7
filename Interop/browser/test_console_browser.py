"""The web console in a real browser (Debian's chromium driven by Playwright): the admin-center
steps of Microsoft's walkthrough for a user's custom security attributes as an Attribute Assignment Administrator, then the same pages as a reader, who
is offered nothing to change. Screenshots of each page go to test-artifacts/console/."""
import os
import re
import shutil
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import ROOT
from sigil_server import SigilServer

BOOT_ID = str(uuid.uuid4())
BOOT_SECRET = "boot8Q~console-browser-0123456789abcdefgh"
PASSWORD = "Sigil-demo-2026!"
ASSIGNMENT_ADMINISTRATOR = "58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d"
ASSIGNMENT_READER = "ffd52fa5-98dc-465c-991d-fc073eb59f8f"
DEFINITION_ADMINISTRATOR = "8424c6f0-a189-499e-bbd0-26c1753c96d4"
LOG_READER = "9c99539d-8186-4804-835f-fd51ef9e2dcd"
SHOTS = os.path.join(ROOT, "test-artifacts", "console")
CHROMIUM = next((path for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(path)), None)


@pytest.fixture(scope="module")
def server():
    # scripts/test's PostgreSQL pass runs the same steps on a schema of its cluster.
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema=console_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    try:
        token = server.token()
        for name, role in (("Alain", ASSIGNMENT_ADMINISTRATOR), ("Dara", ASSIGNMENT_READER),
                           ("Jana", DEFINITION_ADMINISTRATOR), ("Chandra", LOG_READER)):
            status, users = server.graph("GET", f"/users?$filter=displayName eq '{name}'&$select=id", token)
            assert status == 200, users
            status, answer = server.graph("POST", "/roleManagement/directory/roleAssignments", token, {
                "principalId": users["value"][0]["id"], "roleDefinitionId": role, "directoryScopeId": "/"})
            assert status == 201, answer
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "chromium is not installed (scripts/test installs Debian's package)"
    shutil.rmtree(SHOTS, ignore_errors=True)
    os.makedirs(SHOTS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class Console:
    """One signed-in browser tab and the screenshots it takes."""

    def __init__(self, browser, server, width=1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.base = server.base

    def shot(self, name):
        self.page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)

    def sign_in(self, user):
        self.page.goto(f"{self.base}/console")
        expect(self.page).to_have_url(re.compile(r"/console/sign-in$"))
        self.page.get_by_label("User principal name").fill(f"{user}@sigil.local")
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page).to_have_url(re.compile(r"/console/users$"))

    def open_user(self, name):
        self.page.goto(f"{self.base}/console/users")
        self.page.get_by_role("link", name=name, exact=True).click()
        expect(self.page.get_by_role("heading", name=name, level=1)).to_be_visible()

    def add(self, set_name, attribute):
        self.page.get_by_role("link", name="Add assignment").click()
        self.page.get_by_label("Attribute set").select_option(set_name)
        self.page.get_by_role("button", name="Continue").click()
        self.page.get_by_label("Attribute name").select_option(label=attribute)
        self.page.get_by_role("button", name="Continue").click()

    def save(self):
        self.page.get_by_role("button", name="Save").click()
        expect(self.page.get_by_role("status")).to_have_text("Assignment saved.")

    def row(self, attribute):
        return self.page.locator("tbody tr", has=self.page.get_by_role("cell", name=attribute, exact=True))

    def edit(self, attribute):
        self.row(attribute).get_by_role("link", name="Edit").click()

    def filter_users(self, set_name, attribute, operator, value):
        self.page.goto(f"{self.base}/console/users")
        self.page.get_by_text("Add filter: custom security attribute").click()
        self.page.get_by_label("Attribute set").select_option(set_name)
        self.page.get_by_role("button", name="Continue").click()
        self.page.get_by_label("Attribute", exact=True).select_option(label=attribute)
        self.page.get_by_role("button", name="Continue").click()
        self.page.get_by_label("Operator").select_option(label=operator)
        value_field = self.page.get_by_label("Value")
        if value_field.evaluate("e => e.tagName") == "SELECT":
            value_field.select_option(value)
        else:
            value_field.fill(value)
        self.page.get_by_role("button", name="Apply").click()
        return sorted(self.page.locator("tbody tr td:first-child").all_inner_texts())


def test_assignment_administrator_follows_the_admin_center_steps(server, browser):
    console = Console(browser, server)
    console.page.goto(f"{server.base}/console/sign-in")
    console.shot("01-sign-in")
    console.sign_in("alain")
    console.shot("02-users")

    console.open_user("Isabella")
    console.shot("03-user-attributes")
    # Assign a string, a multi-valued predefined string, an integer, a multi-valued integer, a Boolean.
    console.add("Engineering", "ProjectDate")
    console.shot("04-add-assignment-string")
    console.page.get_by_label("Value 1").fill("2024-11-15")
    console.save()
    console.add("Engineering", "Project")
    console.page.get_by_label("Baker").check()
    console.page.get_by_label("Alpine").check()
    console.shot("05-add-assignment-predefined-multi")
    console.save()
    console.add("Engineering", "NumVendors")
    console.page.get_by_label("Value 1").fill("8")
    console.save()
    console.add("Engineering", "CostCenter")
    console.page.get_by_label("Value 1").fill("1001")
    console.page.get_by_role("button", name="Add another value").click()
    console.page.get_by_label("Value 2").fill("1003")
    console.shot("06-add-assignment-multi-integer")
    console.save()
    console.add("Engineering", "Certification")
    console.page.get_by_label("Assigned values").select_option("True")
    console.save()
    for attribute, values in (("ProjectDate", "2024-11-15"), ("Project", "Alpine, Baker"), ("NumVendors", "8"),
                              ("CostCenter", "1001, 1003"), ("Certification", "True"), ("AppCountry", "France")):
        expect(console.row(attribute).locator("td").nth(3)).to_have_text(values)
    console.shot("07-assignments")

    # A value the definition cannot take is explained next to the field, and nothing changes.
    console.edit("NumVendors")
    console.page.get_by_label("Value 1").fill("99999999999")
    console.page.get_by_role("button", name="Save").click()
    expect(console.page.get_by_role("alert")).to_contain_text("is not a whole number between")
    console.shot("08-error-next-to-field")

    # Update an integer, a Boolean and a multi-valued string.
    console.page.get_by_label("Value 1").fill("5")
    console.save()
    console.edit("Certification")
    console.page.get_by_label("Assigned values").select_option("False")
    console.save()
    console.edit("Project")
    console.page.get_by_label("Baker").uncheck()
    console.page.get_by_label("Cascade").check()
    console.save()
    expect(console.row("NumVendors").locator("td").nth(3)).to_have_text("5")
    expect(console.row("Certification").locator("td").nth(3)).to_have_text("False")
    expect(console.row("Project").locator("td").nth(3)).to_have_text("Alpine, Cascade")

    # Filter users with ==, != and starts with.
    assert console.filter_users("Engineering", "NumVendors", "==", "8") == ["Joe"]
    console.shot("09-filter-equals")
    assert console.filter_users("Engineering", "NumVendors", "!=", "8") == sorted(
        ["Alain", "Chandra", "Dara", "Isabella", "Jana", "Jiya"])
    assert console.filter_users("Marketing", "EmployeeId", "starts with", "GS") == ["Chandra", "Jana", "Joe"]
    console.shot("10-filter-starts-with")
    assert console.filter_users("Engineering", "Project", "==", "Cascade") == ["Isabella"]

    # Remove a single-valued and a multi-valued assignment.
    console.open_user("Isabella")
    console.page.get_by_label("Select Engineering ProjectDate").check()
    console.page.get_by_label("Select Engineering CostCenter").check()
    console.page.get_by_role("button", name="Remove assignment").click()
    expect(console.page.get_by_role("status")).to_have_text("Assignments removed.")
    expect(console.row("ProjectDate")).to_have_count(0)
    expect(console.row("CostCenter")).to_have_count(0)
    expect(console.row("NumVendors")).to_have_count(1)
    console.shot("11-after-removal")

    console.page.get_by_role("button", name="Sign out").click()
    expect(console.page).to_have_url(re.compile(r"/console/sign-in$"))
    console.context.close()


def test_reader_can_look_but_not_change(server, browser):
    console = Console(browser, server)
    console.sign_in("dara")
    console.open_user("Joe")
    expect(console.row("NumVendors").locator("td").nth(2)).to_have_text("8")
    expect(console.page.get_by_role("link", name="Add assignment")).to_have_count(0)
    expect(console.page.get_by_role("button", name="Remove assignment")).to_have_count(0)
    expect(console.page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(console.page.get_by_role("checkbox")).to_have_count(0)
    console.shot("12-reader-view")
    console.context.close()


def test_narrow_screens(server, browser):
    console = Console(browser, server, width=390)
    console.sign_in("alain")
    console.shot("13-users-390px")
    console.open_user("Joe")
    # The table scrolls inside its frame instead of widening the page.
    assert console.page.evaluate("document.documentElement.scrollWidth") <= 390
    console.shot("14-user-attributes-390px")
    console.context.close()


def test_definition_administrator_adds_a_set_and_an_attribute(server, browser):
    console = Console(browser, server)
    console.sign_in("jana")
    console.page.get_by_role("navigation").get_by_role("link", name="Custom security attributes").click()
    console.page.get_by_label("Name", exact=True).fill("Finance")
    console.page.get_by_label("Description").fill("Attributes for the finance team")
    console.page.get_by_label("Maximum number of attributes").fill("10")
    console.page.get_by_role("button", name="Add", exact=True).click()
    expect(console.page.get_by_role("heading", name="Finance", level=1)).to_be_visible()
    console.page.get_by_label("Attribute name").fill("CostCenter")
    console.page.get_by_label("Only allow predefined values to be assigned").select_option("true")
    console.page.get_by_label("Predefined values (one per line, all active)").fill("CC-100\nCC-200")
    console.page.get_by_role("button", name="Add attribute").click()
    expect(console.page.get_by_role("status")).to_have_text("Saved.")
    console.page.get_by_role("button", name="Deactivate CC-200").click()
    expect(console.page.get_by_role("row", name="CC-200 No")).to_have_count(1)
    console.shot("15-attribute")
    console.page.get_by_role("main").get_by_role("link", name="Finance").click()
    console.shot("16-attribute-set")
    console.page.get_by_role("navigation").get_by_role("link", name="Custom security attributes").click()
    expect(console.page.get_by_role("link", name="Finance")).to_be_visible()
    console.shot("17-attribute-sets")
    console.context.close()


def test_log_reader_sees_the_changes_and_the_roles(server, browser):
    console = Console(browser, server)
    console.sign_in("chandra")
    console.page.get_by_role("link", name="Audit logs").click()
    console.page.get_by_label("Activity").select_option("Update attribute values assigned to a user")
    console.page.get_by_role("button", name="Apply").click()
    # The administrator's changes to Isabella, with old and new values.
    expect(console.page.get_by_text("Engineering_NumVendors: [8] → [5]")).to_be_visible()
    console.shot("18-audit-log")
    console.page.get_by_role("link", name="Roles and administrators").click()
    expect(console.page.get_by_role("cell", name="Attribute Log Reader")).to_be_visible()
    expect(console.page.get_by_role("button", name="Assign")).to_have_count(0)
    console.shot("19-roles")
    console.context.close()
