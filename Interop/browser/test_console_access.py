"""The console's Access pages in a real browser (Debian's chromium driven by Playwright), on a demo
server of their own: an access rule is created after a refused condition (its position shown next
to the field, which has the focus), Test access decides both ways with the deciding rule and the
trace, and Who has access counts the principals a condition admits and pages through them; the
same with JavaScript off. axe-core checks every page at 1280 and 390 px for serious violations;
with SIGIL_CONSOLE_SCREENSHOTS=1 the pages shown in docs/console.md go to docs/console-screenshots/."""
import re

import pytest
from playwright.sync_api import expect

from test_console_browser import Console, demo_server, tab_to
# The same chromium per module and answer check as the Conditional Access pages.
from test_console_conditional_access import browser, ok  # noqa: F401

ACCESS_ADMINISTRATOR = "5a9c1e2b-7d43-4f08-9b6e-3c1d0a8f4e21"
ACCESS_EVALUATOR = "c47e0d93-2b18-4a6f-8e5d-91f3b2a6c7d0"
ASSIGNMENT_READER = "ffd52fa5-98dc-465c-991d-fc073eb59f8f"
BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
PROJECT = "@Principal[Microsoft.Directory/CustomSecurityAttributes/Id:Engineering_Project]"
# The principal works on the blob's project (its Project index tag).
SAME_PROJECT = (f"{PROJECT} ForAnyOfAnyValues:StringEquals "
                "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>]")
BAKER = f"{PROJECT} ForAnyOfAnyValues:StringEquals 'Baker'"
# No right-hand side: the validator stops at its end.
REFUSED = f"{PROJECT} ForAnyOfAnyValues:StringEquals"
# Joe works on Baker in the demo; these service principals too, so that the answer takes two pages.
BAKER_APPS = 50


@pytest.fixture(scope="module")
def server():
    # Jana administers access rules, asks for decisions and reads values; Dara reads Marketing only.
    server = demo_server("console_access", (("Jana", ACCESS_ADMINISTRATOR), ("Jana", ACCESS_EVALUATOR),
                                            ("Jana", ASSIGNMENT_READER)))
    try:
        boot = server.token()
        manager = server.token(*server.demo_manager())
        for index in range(BAKER_APPS):
            app = ok(server.graph("POST", "/applications", boot, {"displayName": f"Baker service {index:02d}"}))
            principal = ok(server.graph("POST", "/servicePrincipals", boot, {"appId": app["appId"]}))
            ok(server.graph("PATCH", f"/servicePrincipals/{principal['id']}", manager, {"customSecurityAttributes": {
                "Engineering": {"@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue",
                                "Project@odata.type": "#Collection(String)", "Project": ["Baker"]}}}))
        yield server
    finally:
        server.stop()


def create_rule(console, name, shots=False):
    """New rule: a refused condition first (its place shown, the field focused, nothing saved),
    then the right one."""
    page = console.page
    page.get_by_role("navigation").get_by_role("link", name="Access", exact=True).click()
    expect(page.get_by_role("heading", name="Access rules", level=1)).to_be_visible()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("All users and service principals").check()
    page.get_by_label(re.compile(r"^Data actions")).fill(BLOB_READ)
    page.get_by_label("Condition, optional").fill(REFUSED)
    page.get_by_role("button", name="Create").click()
    error = page.locator("#condition-error")
    expect(error).to_contain_text("The given role assignment condition is invalid. Position ")
    expect(error).to_contain_text(re.compile(r"Line 1, column \d+"))
    expect(page.get_by_label("Condition, optional")).to_be_focused()
    if shots:
        console.shot("access-rule-error", doc=True)
    page.get_by_label("Condition, optional").fill(SAME_PROJECT)
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("status")).to_have_text("Rule created.")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def ask_for_access(console, server, rule, shots=False):
    page = console.page
    page.goto(f"{server.base}/console/access")
    page.get_by_role("link", name="Test access").click()
    page.get_by_label("A user").check()
    page.get_by_label("User principal name or object id; or service principal object id or application id").fill("joe@sigil.local")
    expect(page.get_by_label("Data action")).to_have_value(BLOB_READ)
    page.get_by_label(re.compile(r"^Resource attributes")).fill("Project=Baker")
    page.get_by_role("button", name="Test access").click()
    expect(page.get_by_role("status")).to_contain_text(f"Allowed · The rule {rule} admits this request.")
    expect(page.locator("ol.trace li").first).to_be_visible()
    if shots:
        # The answer, below the form, in view for the picture.
        page.evaluate("document.getElementById('decision').scrollIntoView()")
        console.shot("access-test", doc=True)
    page.get_by_label(re.compile(r"^Resource attributes")).fill("Project=Cascade")
    page.get_by_role("button", name="Test access").click()
    expect(page.get_by_role("status")).to_contain_text("Denied · No rule's condition admits this request.")


def who_has_access(console, server, shots=False):
    page = console.page
    page.goto(f"{server.base}/console/access")
    page.get_by_role("link", name="Who has access").click()
    page.get_by_label("Or a condition", exact=True).fill(BAKER)
    page.get_by_role("button", name="Who has access").click()
    total = BAKER_APPS + 1
    expect(page.get_by_role("status")).to_have_text(f"{total} principals have access")
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_role("row", name=re.compile(r"^Joe joe@sigil\.local User$"))).to_have_count(1)
    if shots:
        page.evaluate("document.getElementById('admitted').scrollIntoView()")
        console.shot("access-who", doc=True)
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("status")).to_have_text(f"{total} principals have access")
    expect(page.locator("tbody tr")).to_have_count(total - 50)
    page.get_by_role("link", name="Previous page").click()
    expect(page.locator("tbody tr")).to_have_count(50)


def delete_rule(console, server, name):
    """With JavaScript Delete asks in a dialog (Cancel keeps the rule); without, on a page of its own."""
    page = console.page
    page.goto(f"{server.base}/console/access")
    page.get_by_role("link", name=name).click()
    page.get_by_role("button", name="Delete rule").click()
    if console.javascript:
        dialog = page.get_by_role("dialog", name=f"Delete the rule {name}?")
        expect(dialog.get_by_role("button", name="Delete")).to_be_focused()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        page.get_by_role("button", name="Delete rule").click()
        dialog.get_by_role("button", name="Delete").click()
    else:
        expect(page.get_by_role("heading", name=f"Delete the rule {name}?")).to_be_visible()
        page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("status")).to_have_text("Rule deleted.")
    expect(page.get_by_role("link", name=name)).to_have_count(0)


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_rules_test_access_and_who_has_access(server, browser, javascript):
    console = Console(browser, server, javascript=javascript)
    console.sign_in("jana")
    name = "Project readers" if javascript else "No-script readers"
    create_rule(console, name)
    ask_for_access(console, server, name)
    who_has_access(console, server)
    delete_rule(console, server, name)
    console.context.close()


def test_reader_of_one_set_gets_no_access_entry_and_the_services_refusal(server, browser):
    console = Console(browser, server)
    console.sign_in("dara")
    page = console.page
    expect(page.get_by_role("navigation").get_by_role("link", name="Access", exact=True)).to_have_count(0)
    page.goto(f"{server.base}/console/access")
    expect(page.get_by_role("heading", name="You don't have access")).to_be_visible()
    expect(page.get_by_text("Insufficient privileges to complete the operation.")).to_be_visible()
    console.context.close()


def test_keyboard_alone_creates_tests_asks_who_and_deletes(server, browser):
    """Tab, typing and Enter only: each Access flow from its page's first control."""
    console = Console(browser, server)
    console.sign_in("jana")
    page, keyboard = console.page, console.page.keyboard
    page.goto(f"{server.base}/console/access/rules/new")
    tab_to(console, "Name")
    keyboard.type("Keyboard readers")
    tab_to(console, "Data actions, one per line (* matches anything)")
    keyboard.type(BLOB_READ)
    tab_to(console, "Condition, optional")
    keyboard.type(REFUSED)
    tab_to(console, "Create")
    keyboard.press("Enter")
    # Refused: the focus is on the condition, so typing goes on where it stopped.
    expect(page.get_by_label("Condition, optional")).to_be_focused()
    keyboard.press("End")
    keyboard.type(" 'Baker'")
    tab_to(console, "Create")
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Rule created.")

    page.goto(f"{server.base}/console/access/test")
    tab_to(console, "User principal name or object id; or service principal object id or application id")
    keyboard.type("joe@sigil.local")
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Allowed · The rule Keyboard readers admits this request.")

    page.goto(f"{server.base}/console/access/who")
    tab_to(console, "Or a condition")
    keyboard.type(BAKER)
    tab_to(console, "Who has access")
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"{BAKER_APPS + 1} principals have access")
    tab_to(console, "Next page")
    keyboard.press("Enter")
    expect(page.locator("tbody tr")).to_have_count(1)

    page.goto(f"{server.base}/console/access")
    tab_to(console, "Keyboard readers")
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keyboard readers", level=1)).to_be_visible()
    tab_to(console, "Delete rule")
    keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_role("button", name="Delete")).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Rule deleted.")
    console.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_access_pages_are_accessible_and_pictured(server, browser, width):
    """Each page at both widths: zero serious axe-core violations, and its screenshot."""
    console = Console(browser, server, width=width)
    console.sign_in("jana")
    page = console.page
    name = f"Project readers {width}"
    create_rule(console, name, shots=True)
    console.shot("access-rule", doc=True)
    page.goto(f"{server.base}/console/access")
    console.shot("access-rules", doc=True)
    page.get_by_role("link", name=name).click()
    page.get_by_role("link", name="Edit rule").click()
    console.shot("access-rule-edit")
    ask_for_access(console, server, name, shots=True)
    who_has_access(console, server, shots=True)
    page.goto(f"{server.base}/console/access")
    page.get_by_role("link", name=name).click()
    # The page the form shows without JavaScript: submit() skips the script's dialog.
    with page.expect_navigation():
        page.evaluate("document.querySelector('form[data-confirm]').submit()")
    expect(page.get_by_role("button", name="Yes, delete")).to_be_visible()
    console.shot("access-rule-delete-confirm")
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("status")).to_have_text("Rule deleted.")
    if width == 390:
        for path in ("/console/access", "/console/access/test", "/console/access/who"):
            page.goto(f"{server.base}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    console.context.close()
