"""The web console in a real browser (Debian's chromium driven by Playwright): the admin-center
flows of Microsoft's walkthrough for a user's custom security attributes, counted in page loads.
With JavaScript, rows are filled in place and one Save (one page load) writes them all; the
filter pane applies several conditions at once. Every flow also completes with JavaScript off,
through the step-by-step forms. axe-core (vendored by axe-playwright-python) checks every page
for serious accessibility violations. Screenshots of each page go to test-artifacts/console/,
and with SIGIL_CONSOLE_SCREENSHOTS=1 those shown in docs/console.md to docs/console-screenshots/
(1280 px and 390 px)."""
import contextlib
import os
import re
import shutil
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
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
# The screenshots docs/console.md shows are refreshed only on request, so test runs leave the tree as it is.
DOC_SHOTS = os.path.join(ROOT, "docs", "console-screenshots") if os.environ.get("SIGIL_CONSOLE_SCREENSHOTS") else None
CHROMIUM = next((path for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(path)), None)
AXE = Axe()
# Page loads per flow, printed at the end of the module (the before/after table of issue 18).
LOADS = {}


def demo_server(schema, grants):
    """`sigil serve --demo` (on schema `schema` of scripts/test's PostgreSQL cluster in its
    PostgreSQL pass) where each (display name, role template id) of `grants` holds that role at
    tenant scope."""
    database = os.environ.get("SIGIL_TEST_DATABASE_URL")
    url = f"{database}{'&' if '?' in database else '?'}schema={schema}_{os.getpid()}" if database else None
    server = SigilServer(url, "--demo", boot_id=BOOT_ID, boot_secret=BOOT_SECRET)
    try:
        token = server.token()
        for name, role in grants:
            status, users = server.graph("GET", f"/users?$filter=displayName eq '{name}'&$select=id", token)
            assert status == 200, users
            status, answer = server.graph("POST", "/roleManagement/directory/roleAssignments", token, {
                "principalId": users["value"][0]["id"], "roleDefinitionId": role, "directoryScopeId": "/"})
            assert status == 201, answer
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def server():
    server = demo_server("console", (("Alain", ASSIGNMENT_ADMINISTRATOR), ("Dara", ASSIGNMENT_READER),
                                     ("Jana", DEFINITION_ADMINISTRATOR), ("Chandra", LOG_READER)))
    try:
        yield server
    finally:
        server.stop()
        if LOADS:
            print("\npage loads per flow: " + ", ".join(f"{flow}: {count}" for flow, count in LOADS.items()))


@contextlib.contextmanager
def chromium():
    """Debian's chromium through Playwright, with the screenshot folders in place."""
    assert CHROMIUM, "chromium is not installed (scripts/test installs Debian's package)"
    os.makedirs(SHOTS, exist_ok=True)
    if DOC_SHOTS:
        os.makedirs(DOC_SHOTS, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser():
    shutil.rmtree(SHOTS, ignore_errors=True)
    with chromium() as browser:
        yield browser


class Console:
    """One signed-in browser tab: its screenshots, page-load counts and accessibility checks."""

    def __init__(self, browser, server, width=1280, javascript=True):
        self.context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.base = server.base
        self.width = width
        self.javascript = javascript
        self.loads = 0
        self.page.on("load", lambda _: setattr(self, "loads", self.loads + 1))

    @contextlib.contextmanager
    def counting(self, flow, expected):
        """Asserts that the steps inside take exactly `expected` page loads (form submissions)."""
        before = self.loads
        yield
        self.page.wait_for_load_state()
        LOADS[flow] = self.loads - before
        assert self.loads - before == expected, f"{flow}: {self.loads - before} page loads, expected {expected}"

    def accessible(self):
        """No serious or critical axe-core violation on the page as it stands."""
        results = AXE.run(self.page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, f"{self.page.url}: " + "; ".join(
            f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in serious)

    def shot(self, name, doc=False):
        # axe-core runs as page script, so only where JavaScript is on (the same pages are checked there).
        if self.javascript:
            self.accessible()
        self.page.screenshot(path=os.path.join(SHOTS, f"{name}-{self.width}.png"), full_page=True)
        if doc and DOC_SHOTS:
            self.page.screenshot(path=os.path.join(DOC_SHOTS, f"{name}-{self.width}.png"))

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

    def row(self, attribute):
        return self.page.locator("tbody tr", has=self.page.get_by_role("cell", name=attribute, exact=True))

    def values(self, attribute):
        return self.row(attribute).locator("td").nth(3)

    # With JavaScript: rows filled in place.

    def new_row(self, set_name, attribute):
        """Adds an editor row (Add assignment the first time) and picks set and attribute in it."""
        editor = self.page.locator("#assign-editor")
        if editor.is_hidden():
            self.page.get_by_role("link", name="Add assignment").click()
        else:
            editor.get_by_role("button", name="Add another attribute").click()
        row = editor.get_by_role("group", name=re.compile(r"^Attribute \d+$")).last
        row.get_by_label("Attribute set").select_option(set_name)
        row.get_by_label("Attribute name").select_option(label=attribute)
        return row

    def fill(self, row, values):
        """Fills a row's value control, whatever kind it is."""
        group = row.get_by_role("group", name="Assigned values")
        if group.count() and group.get_by_role("checkbox").count():
            for value in values:
                group.get_by_label(value, exact=True).check()
        elif group.count():
            for index, value in enumerate(values):
                if index:
                    group.get_by_role("button", name="Add another value").click()
                group.get_by_label(f"Value {index + 1}", exact=True).fill(value)
        else:
            field = row.get_by_label("Assigned values")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(values[0])
            else:
                field.fill(values[0])

    def save_rows(self, notice):
        self.page.locator("#assign-editor").get_by_role("button", name="Save").click()
        expect(self.page.get_by_role("status")).to_have_text(notice)

    def edit_in_place(self, attribute):
        self.row(attribute).get_by_role("link", name="Edit").click()
        return self.row(attribute)

    def filter(self, conditions, segment="users"):
        """Fills one filter row per condition in the pane, then Apply once."""
        pane = self.page.locator("form[data-filter-pane]")
        if not pane.is_visible():
            self.page.get_by_text("Add filter: custom security attribute").click()
        for index, (set_name, attribute, operator, value) in enumerate(conditions):
            if index:
                pane.get_by_role("button", name="Add another filter").click()
            row = pane.get_by_role("group", name=f"Filter {index + 1}")
            row.get_by_label("Attribute set").select_option(set_name)
            row.get_by_label("Attribute", exact=True).select_option(label=attribute)
            row.get_by_label("Operator").select_option(label=operator)
            field = row.get_by_label("Value")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        pane.get_by_role("button", name="Apply").click()

    def names(self):
        return sorted(self.page.locator("tbody tr td:first-child").all_inner_texts())

    def chips(self):
        return self.page.get_by_role("list", name="Applied filters").locator(".chip span").all_inner_texts()


SEED = (("Engineering", "ProjectDate", ["2024-11-15"]), ("Engineering", "Project", ["Baker", "Alpine"]),
        ("Engineering", "NumVendors", ["8"]), ("Engineering", "CostCenter", ["1001", "1003"]),
        ("Engineering", "Certification", ["True"]))


def test_assignment_administrator_with_javascript(server, browser):
    console = Console(browser, server)
    console.sign_in("alain")
    console.shot("02-users")

    # One assignment of each type from the user's page: one page load each.
    console.open_user("Jiya")
    for set_name, attribute, values in SEED:
        with console.counting(f"one {attribute} assignment", 1):
            console.fill(console.new_row(set_name, attribute), values)
            console.save_rows("Assignment saved.")
    for attribute, shown in (("ProjectDate", "2024-11-15"), ("Project", "Alpine, Baker"), ("NumVendors", "8"),
                             ("CostCenter", "1001, 1003"), ("Certification", "True"), ("Datacenter", "India")):
        expect(console.values(attribute)).to_have_text(shown)

    # The seed's five attributes on one user: five rows, one Save, one page load.
    console.open_user("Isabella")
    console.shot("03-user-attributes")
    with console.counting("the seed's five attributes on one user", 1):
        for set_name, attribute, values in SEED:
            console.fill(console.new_row(set_name, attribute), values)
        console.shot("04-add-assignments-in-place", doc=True)
        console.save_rows("5 assignments saved.")
    for attribute, shown in (("ProjectDate", "2024-11-15"), ("Project", "Alpine, Baker"), ("NumVendors", "8"),
                             ("CostCenter", "1001, 1003"), ("Certification", "True"), ("AppCountry", "France")):
        expect(console.values(attribute)).to_have_text(shown)
    console.shot("05-assignments")

    # All or nothing: a wrong row refuses the whole Save; the error sits in its row and has focus.
    console.fill(console.new_row("Engineering", "Datacenter"), ["Lisbon"])
    wrong = console.edit_in_place("NumVendors")
    wrong.get_by_label("Assigned values").fill("99999999999")
    console.page.locator("#assign-editor").get_by_role("button", name="Save").click()
    expect(console.page.get_by_role("alert")).to_contain_text("Nothing was saved")
    bad_row = console.page.locator("#assign-editor fieldset.editor-row", has_text="is not a whole number between")
    expect(bad_row).to_have_count(1)
    expect(bad_row.get_by_label("Assigned values")).to_be_focused()
    expect(console.values("NumVendors")).to_have_text("8")
    expect(console.row("Datacenter")).to_have_count(0)
    console.shot("06-error-next-to-row", doc=True)

    # Edit rows in place: an integer, a Boolean and a multi-valued predefined string.
    console.open_user("Isabella")
    with console.counting("edit one assignment in place", 1):
        console.edit_in_place("NumVendors").get_by_label("Assigned values").fill("5")
        console.row("NumVendors").get_by_role("button", name="Save").click()
        expect(console.page.get_by_role("status")).to_have_text("Assignment saved.")
    console.edit_in_place("Certification").get_by_label("Assigned values").select_option("False")
    console.row("Certification").get_by_role("button", name="Save").click()
    expect(console.page.get_by_role("status")).to_have_text("Assignment saved.")
    row = console.edit_in_place("Project")
    row.get_by_label("Baker").uncheck()
    row.get_by_label("Cascade").check()
    console.shot("07-edit-in-place", doc=True)
    row.get_by_role("button", name="Save").click()
    expect(console.values("NumVendors")).to_have_text("5")
    expect(console.values("Certification")).to_have_text("False")
    expect(console.values("Project")).to_have_text("Alpine, Cascade")

    # Remove: select rows, Remove, confirm.
    with console.counting("remove two assignments", 1):
        console.page.get_by_label("Select Engineering ProjectDate").check()
        console.page.get_by_label("Select Engineering CostCenter").check()
        console.page.get_by_role("button", name="Remove assignment").click()
        dialog = console.page.get_by_role("dialog", name="Remove 2 assignments?")
        expect(dialog).to_be_visible()
        console.shot("08-remove-confirm", doc=True)
        dialog.get_by_role("button", name="Remove").click()
        expect(console.page.get_by_role("status")).to_have_text("Assignments removed.")
    expect(console.row("ProjectDate")).to_have_count(0)
    expect(console.row("CostCenter")).to_have_count(0)
    expect(console.row("NumVendors")).to_have_count(1)

    # Three filters in one pane, one Apply, one page load; chips name the set and attribute.
    console.page.goto(f"{server.base}/console/users")
    with console.counting("a three-filter query", 1):
        console.filter([("Marketing", "EmployeeId", "starts with", "GS"), ("Engineering", "NumVendors", "!=", "5"),
                        ("Engineering", "Project", "==", "Baker")])
    assert console.names() == ["Joe"]
    expect(console.page.locator(".count")).to_have_text("1 user found")
    assert console.chips() == ["Marketing › EmployeeId starts with GS", "Engineering › NumVendors != 5",
                               "Engineering › Project == Baker"]
    console.shot("09-users-three-filters", doc=True)
    # A chip removed keeps the others; a name search keeps the filters.
    console.page.get_by_role("link", name="Remove filter Engineering › Project == Baker").click()
    assert console.names() == ["Chandra", "Jana", "Joe"]
    console.page.get_by_label("Search by name").fill("Ja")
    console.page.get_by_role("button", name="Search").click()
    assert console.names() == ["Jana"]
    assert len(console.chips()) == 2
    # Predefined values are offered as a list in the pane; the same pane on applications.
    console.page.goto(f"{server.base}/console/users")
    console.filter([("Marketing", "AppCountry", "==", "Canada")])
    assert console.names() == ["Jana", "Jiya"]
    console.page.goto(f"{server.base}/console/enterprise-applications")
    console.shot("10-enterprise-applications")
    console.page.get_by_role("button", name="Sign out").click()
    expect(console.page).to_have_url(re.compile(r"/console/sign-in$"))
    console.context.close()


def test_every_flow_without_javascript(server, browser):
    console = Console(browser, server, javascript=False)
    console.sign_in("alain")
    console.open_user("Dara")
    # The step-by-step forms: set, Continue, attribute, Continue, value, Save.
    with console.counting("one assignment without JavaScript", 4):
        console.page.get_by_role("link", name="Add assignment").click()
        console.page.get_by_label("Attribute set").select_option("Engineering")
        console.page.get_by_role("button", name="Continue").click()
        console.page.get_by_label("Attribute name").select_option(label="CostCenter")
        console.page.get_by_role("button", name="Continue").click()
        console.shot("11-add-assignment-steps")
        console.page.get_by_label("Value 1").fill("1001")
        console.page.get_by_label("Value 2").fill("1002")
        console.page.get_by_role("button", name="Save").click()
        expect(console.page.get_by_role("status")).to_have_text("Assignment saved.")
    expect(console.values("CostCenter")).to_have_text("1001, 1002")
    console.row("CostCenter").get_by_role("link", name="Edit").click()
    console.page.get_by_label("Value 2").fill("")
    console.page.get_by_role("button", name="Save").click()
    expect(console.values("CostCenter")).to_have_text("1001")
    # Without the script Remove asks on a page of its own: "No" keeps the values, "Yes" removes them.
    console.page.get_by_label("Select Engineering CostCenter").check()
    console.page.get_by_role("button", name="Remove assignment").click()
    expect(console.page.get_by_role("heading", name="Remove 1 assignment?")).to_be_visible()
    expect(console.page.locator("main form li")).to_have_text(["Engineering CostCenter"])
    console.page.get_by_role("link", name="No, keep them").click()
    expect(console.values("CostCenter")).to_have_text("1001")
    console.page.get_by_label("Select Engineering CostCenter").check()
    console.page.get_by_role("button", name="Remove assignment").click()
    console.page.get_by_role("button", name="Yes, remove").click()
    expect(console.page.get_by_role("status")).to_have_text("Assignments removed.")

    # Filters: the pane lists every attribute grouped by set; each Apply adds one.
    console.page.goto(f"{server.base}/console/users")
    with console.counting("a three-filter query without JavaScript", 3):
        for condition in (("Marketing", "EmployeeId", "starts with", "GS"), ("Engineering", "NumVendors", "!=", "5"),
                          ("Engineering", "Project", "==", "Baker")):
            console.filter([condition])
    assert console.names() == ["Joe"]
    assert len(console.chips()) == 3
    # A set changed after the attribute was picked is refused, not silently ignored.
    console.page.get_by_text("Add filter: custom security attribute").click()
    console.page.get_by_label("Attribute", exact=True).select_option(label="AppCountry")
    console.page.get_by_label("Attribute set").select_option("Engineering")
    console.page.get_by_label("Value").fill("Canada")
    console.page.get_by_role("button", name="Apply").click()
    expect(console.page.get_by_role("alert")).to_have_text(
        "AppCountry is in the set Marketing, not Engineering. Choose an attribute of Engineering.")
    assert console.names() == ["Joe"]
    console.shot("12-filter-set-changed")
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
    console.shot("13-reader-view")
    console.context.close()


def test_narrow_screens(server, browser):
    console = Console(browser, server, width=390)
    console.sign_in("alain")
    # The identifying columns stay inside the screen, whole; the others scroll.
    for cell in (console.page.locator("tbody tr").first.locator("td").nth(i) for i in (0, 1)):
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert cell.evaluate("e => e.scrollWidth <= e.clientWidth")
    console.shot("14-users-390px")
    console.open_user("Joe")
    assert console.page.evaluate("document.documentElement.scrollWidth") <= 390
    console.shot("15-user-attributes-390px")
    console.context.close()


def test_definition_administrator_edits_values_in_place(server, browser):
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
    # Add, deactivate and reactivate predefined values without leaving the page.
    with console.counting("edit predefined values in place", 0):
        console.page.get_by_label("Add value").fill("CC-300")
        console.page.get_by_role("button", name="Add value").click()
        expect(console.page.get_by_role("row", name="CC-300 Yes")).to_have_count(1)
        console.page.get_by_role("button", name="Deactivate CC-200").click()
        expect(console.page.get_by_role("row", name="CC-200 No")).to_have_count(1)
        expect(console.page.get_by_role("button", name="Activate CC-200")).to_be_focused()
        console.page.get_by_role("button", name="Activate CC-200").click()
        expect(console.page.get_by_role("row", name="CC-200 Yes")).to_have_count(1)
        console.page.get_by_role("button", name="Deactivate CC-200").click()
        expect(console.page.get_by_role("row", name="CC-200 No")).to_have_count(1)
    console.shot("16-attribute")
    console.page.get_by_role("main").get_by_role("link", name="Finance").click()
    console.shot("17-attribute-set")
    console.page.get_by_role("navigation").get_by_role("link", name="Custom security attributes").click()
    expect(console.page.get_by_role("link", name="Finance")).to_be_visible()
    console.shot("18-attribute-sets")
    console.context.close()


def test_log_reader_sees_the_changes_and_the_roles(server, browser):
    console = Console(browser, server)
    console.sign_in("chandra")
    console.page.get_by_role("link", name="Audit logs").click()
    console.page.get_by_label("Activity").select_option("Update attribute values assigned to a user")
    console.page.get_by_role("button", name="Apply").click()
    # The administrator's changes to Isabella, with old and new values.
    expect(console.page.get_by_text("Engineering_NumVendors: [8] → [5]")).to_be_visible()
    console.shot("19-audit-log")
    console.page.get_by_role("link", name="Roles and administrators").click()
    expect(console.page.get_by_role("cell", name="Attribute Log Reader")).to_be_visible()
    expect(console.page.get_by_role("button", name="Assign")).to_have_count(0)
    console.shot("20-roles")
    console.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_is_accessible_and_pictured(server, browser, width):
    """Each console page at both widths: zero serious axe-core violations, and its screenshot."""
    anonymous = Console(browser, server, width=width)
    anonymous.page.goto(f"{server.base}/console/sign-in")
    anonymous.shot("sign-in", doc=True)
    anonymous.context.close()
    pages = {
        "alain": [("users", "/console/users"), ("enterprise-applications", "/console/enterprise-applications"),
                  ("add-assignment-step", None), ("remove-confirm-step", None), ("user", None), ("roles", "/console/roles")],
        "jana": [("attribute-sets", "/console/attribute-sets"), ("attribute-set", "/console/attribute-sets/Engineering"),
                 ("attribute", "/console/attribute-sets/Engineering/attributes/Project")],
        "chandra": [("audit", "/console/audit")],
    }
    for user, visits in pages.items():
        console = Console(browser, server, width=width)
        console.sign_in(user)
        for name, path in visits:
            if name == "user":
                console.open_user("Joe")
                console.new_row("Engineering", "Project")
            elif name == "add-assignment-step":
                console.open_user("Joe")
                console.page.goto(console.page.url + "/attributes/new?set=Engineering")
            elif name == "remove-confirm-step":
                # The page the form shows without JavaScript: submit() skips the script's dialog.
                console.open_user("Joe")
                console.page.locator("input[name=attribute]").first.check()
                with console.page.expect_navigation():
                    console.page.evaluate("document.querySelector('form[data-confirm-remove]').submit()")
                expect(console.page.get_by_role("button", name="Yes, remove")).to_be_visible()
            else:
                console.page.goto(f"{server.base}{path}")
            console.shot(name, doc=True)
        console.context.close()


def tab_to(console, name, limit=150):
    """Presses Tab until the focused control's name (aria-label, else its <label>, else its text) is `name`."""
    for _ in range(limit):
        console.page.keyboard.press("Tab")
        focused = console.page.evaluate(
            "(() => { const e = document.activeElement; const label = e.labels && e.labels.length ? e.labels[0].textContent : null;"
            " return (e.getAttribute('aria-label') || label || e.textContent || '').trim(); })()")
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_keyboard_alone_adds_edits_and_removes(server, browser):
    """Tab, type, Space and Enter only: Add assignment (set, attribute, value, Save), Edit the row
    in place, then tick it, Remove and confirm in the dialog; one page load each."""
    console = Console(browser, server)
    console.sign_in("alain")
    console.open_user("Chandra")
    keyboard = console.page.keyboard
    tab_to(console, "Add assignment")
    with console.counting("one assignment with the keyboard alone", 1):
        keyboard.press("Enter")
        expect(console.page.get_by_label("Attribute set")).to_be_focused()
        keyboard.type("Engineering")
        keyboard.press("Tab")
        expect(console.page.get_by_label("Attribute name")).to_be_focused()
        keyboard.type("NumVendors")
        keyboard.press("Tab")
        expect(console.page.get_by_label("Assigned values")).to_be_focused()
        keyboard.type("7")
        keyboard.press("Enter")
        expect(console.page.get_by_role("status")).to_have_text("Assignment saved.")
    expect(console.values("NumVendors")).to_have_text("7")

    tab_to(console, "Edit Engineering NumVendors")
    with console.counting("edit in place with the keyboard alone", 1):
        keyboard.press("Enter")
        expect(console.row("NumVendors").get_by_label("Assigned values")).to_be_focused()
        keyboard.press("Control+A")
        keyboard.type("8")
        keyboard.press("Enter")
        expect(console.page.get_by_role("status")).to_have_text("Assignment saved.")
    expect(console.values("NumVendors")).to_have_text("8")

    tab_to(console, "Select Engineering NumVendors")
    keyboard.press("Space")
    tab_to(console, "Remove assignment")
    with console.counting("remove with the keyboard alone", 1):
        keyboard.press("Enter")
        dialog = console.page.get_by_role("dialog", name="Remove 1 assignment?")
        expect(dialog.get_by_role("button", name="Remove")).to_be_focused()
        keyboard.press("Enter")
        expect(console.page.get_by_role("status")).to_have_text("Assignments removed.")
    expect(console.row("NumVendors")).to_have_count(0)
    console.context.close()


def test_keyboard_alone_filters_users(server, browser):
    """The filter pane with the keyboard alone: open it, choose set, attribute and a predefined
    value, Apply; one page load, and the chip names the set and attribute."""
    console = Console(browser, server)
    console.sign_in("alain")
    keyboard = console.page.keyboard
    tab_to(console, "Add filter: custom security attribute")
    with console.counting("one filter with the keyboard alone", 1):
        keyboard.press("Enter")
        tab_to(console, "Attribute set")
        keyboard.type("Marketing")
        keyboard.press("Tab")
        expect(console.page.get_by_label("Attribute", exact=True)).to_be_focused()
        keyboard.type("AppCountry")
        keyboard.press("Tab")
        expect(console.page.get_by_label("Operator")).to_be_focused()
        keyboard.press("Tab")
        expect(console.page.get_by_label("Value")).to_be_focused()
        keyboard.type("Canada")
        tab_to(console, "Apply")
        keyboard.press("Enter")
        expect(console.page.locator(".count")).to_be_visible()
    assert console.names() == ["Jana", "Jiya"]
    assert console.chips() == ["Marketing › AppCountry == Canada"]
    console.context.close()
