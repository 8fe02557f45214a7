"""The console's Conditional Access pages in a real browser (Debian's chromium driven by
Playwright), on a demo server of their own: a policy whose application filter has two rows is
created in one submission, its page lists the service principals it selects with their count, and
What If says which policies apply; the same with JavaScript off. axe-core checks every new page
at 1280 and 390 px for serious violations; with SIGIL_CONSOLE_SCREENSHOTS=1 the pages shown in
docs/console.md go to docs/console-screenshots/."""
import re

import pytest
from playwright.sync_api import expect

from test_console_browser import Console, chromium, demo_server

CONDITIONAL_ACCESS_ADMINISTRATOR = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
ASSIGNMENT_READER = "ffd52fa5-98dc-465c-991d-fc073eb59f8f"
SECURITY_READER = "5d6b6bb7-de71-4623-b4af-96380a352509"
# The rule the two rows make (the server composes it without JavaScript, the script with it).
RULE = ('CustomSecurityAttribute.Engineering_Project -eq "Baker" '
        '-or CustomSecurityAttribute.Engineering_Datacenter -eq "Lisbon"')


def ok(answer, status=(200, 201, 204)):
    code, body = answer
    assert code in status, body
    return body


@pytest.fixture(scope="module")
def server():
    # Joe administers Conditional Access and reads assignments (to see whom a policy selects);
    # Dara reads policies only.
    server = demo_server("console_ca", (("Joe", CONDITIONAL_ACCESS_ADMINISTRATOR), ("Joe", ASSIGNMENT_READER),
                                        ("Dara", SECURITY_READER)))
    try:
        boot = server.token()
        manager = server.token(*server.demo_manager())
        server.apps = {}
        for name, attribute, value in (("Baker service", "Project", "Baker"), ("Alpine service", "Project", "Alpine"),
                                       ("Lisbon service", "Datacenter", "Lisbon")):
            app = ok(server.graph("POST", "/applications", boot, {"displayName": name}))
            principal = ok(server.graph("POST", "/servicePrincipals", boot, {"appId": app["appId"]}))
            ok(server.graph("PATCH", f"/servicePrincipals/{principal['id']}", manager, {"customSecurityAttributes": {
                "Engineering": {"@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue",
                                f"{attribute}@odata.type": "#Collection(String)", attribute: [value]}}}))
            server.apps[name] = app["appId"]
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def fill_policy(console, name):
    """The whole form: blocks every user's sign-in to the applications the two filter rows select."""
    page = console.page
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("group", name="Users").get_by_label("All users").check()
    page.get_by_role("group", name="Target resources").get_by_label("None", exact=True).check()
    for number, join, attribute, value in ((1, None, "Project", "Baker"), (2, "or (-or)", "Datacenter", "Lisbon")):
        row = page.get_by_role("group", name=f"Condition {number}")
        if join:
            row.get_by_label("Join with the row above").select_option(label=join)
        row.get_by_label("Attribute set").select_option("Engineering")
        row.get_by_label("Attribute", exact=True).select_option(label=attribute)
        row.get_by_label("Operator").select_option(label="equals (-eq)")
        row.get_by_label("Value").fill(value)
    page.get_by_label("Block access").check()
    page.get_by_label("Report-only").check()


def create_and_check(console, server, name, flow):
    page = console.page
    page.get_by_role("navigation").get_by_role("link", name="Conditional Access").click()
    page.get_by_role("link", name="New policy").click()
    fill_policy(console, name)
    if console.javascript:
        # The rows wrote the rule text as they were filled.
        assert page.locator("#rule").input_value() == RULE
    with console.counting(flow, 1):
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("status")).to_have_text("Policy created.")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.locator("main code").first).to_have_text(RULE)
    expect(page.locator(".count")).to_have_text("2 service principals selected")
    assert sorted(page.locator("tbody tr td:first-child").all_inner_texts()) == ["Baker service", "Lisbon service"]


def what_if(console, server, policy):
    page = console.page
    page.goto(f"{server.base}/console/conditional-access")
    page.get_by_role("link", name="What If").click()
    page.get_by_label("A user").check()
    page.get_by_label("User object id or user principal name; or service principal object id").fill("jiya@sigil.local")
    page.get_by_label("Application (client) id of the resource, optional: Microsoft Graph when empty").fill(
        server.apps["Baker service"])
    with console.counting("What If" + ("" if console.javascript else " without JavaScript"), 1):
        page.get_by_role("button", name="What If").click()
        expect(page.get_by_role("heading", name="Results")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(rf"^{re.escape(policy)} Report-only Applies"))).to_have_count(1)


def test_policy_with_two_filter_rows_targets_and_what_if(server, browser):
    console = Console(browser, server)
    console.sign_in("joe")
    create_and_check(console, server, "Block Baker and Lisbon", "a policy with a two-row filter")
    what_if(console, server, "Block Baker and Lisbon")
    # Delete asks in a dialog: Cancel keeps the policy, Delete removes it (one page load).
    page = console.page
    page.get_by_role("link", name="Block Baker and Lisbon").click()
    page.get_by_role("button", name="Delete policy").click()
    dialog = page.get_by_role("dialog", name="Delete the policy Block Baker and Lisbon?")
    expect(dialog.get_by_role("button", name="Delete")).to_be_focused()
    console.shot("conditional-access-delete-dialog", doc=True)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    with console.counting("delete a policy", 1):
        page.get_by_role("button", name="Delete policy").click()
        dialog.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("status")).to_have_text("Policy deleted.")
    expect(page.get_by_role("link", name="Block Baker and Lisbon")).to_have_count(0)
    console.context.close()


def test_policy_with_two_filter_rows_without_javascript(server, browser):
    console = Console(browser, server, javascript=False)
    console.sign_in("joe")
    create_and_check(console, server, "No-script policy", "a policy with a two-row filter without JavaScript")
    what_if(console, server, "No-script policy")
    # A bad rule typed as text is refused next to the filter; nothing is saved.
    page = console.page
    page.goto(f"{server.base}/console/conditional-access/new")
    page.get_by_label("Name", exact=True).fill("Broken")
    page.get_by_text("Advanced: the rule as text").click()
    page.get_by_label("Rule", exact=True).fill('CustomSecurityAttribute.Engineering_NumVendors -eq "8"')
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#filter-error")).to_contain_text("filters for applications only support String attributes")
    page.goto(f"{server.base}/console/conditional-access")
    expect(page.get_by_role("link", name="Broken")).to_have_count(0)
    # Delete asks on a page of its own.
    page.get_by_role("link", name="No-script policy").click()
    page.get_by_role("button", name="Delete policy").click()
    expect(page.get_by_role("heading", name="Delete the policy No-script policy?")).to_be_visible()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("status")).to_have_text("Policy deleted.")
    console.context.close()


def test_reader_sees_policies_but_no_new_policy(server, browser):
    console = Console(browser, server)
    console.sign_in("dara")
    console.page.get_by_role("navigation").get_by_role("link", name="Conditional Access").click()
    expect(console.page.get_by_role("heading", name="Conditional Access policies")).to_be_visible()
    expect(console.page.get_by_role("link", name="New policy")).to_have_count(0)
    console.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_conditional_access_pages_are_accessible_and_pictured(server, browser, width):
    """Each new page at both widths: zero serious axe-core violations, and its screenshot."""
    console = Console(browser, server, width=width)
    console.sign_in("joe")
    page = console.page
    page.goto(f"{server.base}/console/conditional-access")
    policy = page.get_by_role("link", name="Block Baker and Lisbon")
    if not policy.count():
        # Run alone (-k), the flow that creates the pictured policy has not run yet.
        create_and_check(console, server, "Block Baker and Lisbon", "a policy with a two-row filter")
        page.goto(f"{server.base}/console/conditional-access")
    console.shot("conditional-access", doc=True)
    page.get_by_role("link", name="Block Baker and Lisbon").click()
    console.shot("conditional-access-policy", doc=True)
    page.get_by_role("link", name="Edit policy").click()
    page.get_by_role("button", name="Add another condition").click()
    console.shot("conditional-access-edit", doc=True)
    page.goto(f"{server.base}/console/conditional-access/new")
    page.get_by_label("Name", exact=True).fill("Refused")
    page.get_by_text("Advanced: the rule as text").click()
    page.get_by_label("Rule", exact=True).fill('CustomSecurityAttribute.Engineering_Project -like "B"')
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#filter-error")).to_be_visible()
    console.shot("conditional-access-rule-error", doc=True)
    page.goto(f"{server.base}/console/conditional-access")
    page.get_by_role("link", name="Block Baker and Lisbon").click()
    # The page the form shows without JavaScript: submit() skips the script's dialog.
    with page.expect_navigation():
        page.evaluate("document.querySelector('form[data-confirm]').submit()")
    expect(page.get_by_role("button", name="Yes, delete")).to_be_visible()
    console.shot("conditional-access-delete-confirm", doc=True)
    page.goto(f"{server.base}/console/conditional-access/what-if?kind=user&identity=jiya%40sigil.local"
              f"&application={server.apps['Baker service']}")
    console.shot("conditional-access-what-if", doc=True)
    if width == 390:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    console.context.close()
