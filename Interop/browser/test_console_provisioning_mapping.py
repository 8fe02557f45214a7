"""The console's Provisioning mapping page in a real browser (Debian's chromium driven by
Playwright), on a demo server of its own: a refused mapping comes back with the message next to
its row (the row's fields marked, nothing saved), then the corrected mapping is saved; with and
without JavaScript, checked by axe-core at 1280 and 390 px; with SIGIL_CONSOLE_SCREENSHOTS=1 the
pages shown in docs/console.md go to docs/console-screenshots/."""
import pytest
from playwright.sync_api import expect

from test_console_browser import Console, demo_server
from test_console_conditional_access import browser, ok  # noqa: F401

PROVISIONING_ADMINISTRATOR = "ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe"
ACME = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"


@pytest.fixture(scope="module")
def server():
    server = demo_server("console_mapping", (("Jana", PROVISIONING_ADMINISTRATOR),))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_a_refused_row_is_marked_then_the_mapping_is_saved(server, browser, javascript, width):
    console = Console(browser, server, width=width, javascript=javascript)
    console.sign_in("jana")
    page = console.page
    page.get_by_role("navigation").get_by_role("link", name="Provisioning mapping").click()
    expect(page.get_by_role("heading", name="Provisioning mapping", level=1)).to_be_visible()
    console.shot("provisioning-mapping", doc=javascript)
    page.get_by_label("userName matches the user's user principal name").check()
    page.get_by_label("Source, row 1").fill(f"{ACME}:costCenter")
    page.get_by_label("Target, row 1").fill("Engineering_Nope")
    page.get_by_role("button", name="Save").click()
    message = page.locator("#row-1-error")
    expect(message).to_contain_text("Engineering_Nope")
    expect(page.get_by_label("Target, row 1")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Target, row 1")).to_have_value("Engineering_Nope")
    console.shot("provisioning-mapping-error", doc=javascript)

    page.get_by_label("Target, row 1").fill("Engineering_CostCenter")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Mapping saved.")
    expect(page.get_by_label("Target, row 1")).to_have_value("Engineering_CostCenter")
    expect(page.get_by_label("userName matches the user's user principal name")).to_be_checked()
    # Back to the default for the next run.
    page.get_by_label("externalId matches the user's employee ID").check()
    page.get_by_label("Source, row 1").fill("")
    page.get_by_label("Target, row 1").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Mapping saved.")
    console.context.close()
