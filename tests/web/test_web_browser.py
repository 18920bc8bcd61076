"""The web message center in a real browser (Playwright driving Debian's headless Chromium)
against a running relay: a seller signs in, filters "Need a response", opens a conversation,
answers with a template and sees it drop out of the filter, marks another "no response
needed", sees a refused answer's reason with the form kept, and the response-time chart; the
same pages on a phone, by keyboard, and without JavaScript. Each step leaves a screenshot
(TEST_ARTIFACTS=DIR keeps them; else pytest's tmp dir, printed with -s)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import samples
from conftest import BUYER, SELLER, Capture
from support.browser import CHROMIUM, require_browser, screenshots
from support.web import PASSWORD, PHONE, Site, site, web_config

from relay.server import Relay

# One relay and one browser for the module: the tests run on the module's event loop.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
DESKTOP = {"width": 1280, "height": 900}
PHONE_SCREEN = {"width": 390, "height": 844}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        await launched.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("web-relay")
    capture = Capture()
    await capture.start()
    relay = Relay(web_config(tmp, capture))
    await relay.start()
    yield await site(relay, capture, history=True)
    await relay.stop()
    await capture.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = screenshots(tmp_path_factory, "web-screenshots")
    print(f"screenshots in {folder}")
    return folder


async def signed_in(browser: Any, web: Site, **context: Any) -> Any:
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(web.base + "/")
    assert page.url.endswith("/login")
    await page.get_by_label("E-mail address").fill(SELLER)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Messages").wait_for()
    return page


def row(page: Any, subject: str) -> Any:
    return page.locator("#messages tr[data-row]").filter(has_text=subject)


async def test_a_seller_answers_marks_and_sees_the_response_time(browser, web, shots):
    page = await (await browser.new_context(viewport=DESKTOP)).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(web.base + "/")
    await page.screenshot(path=shots / "01-sign-in.png", full_page=True)
    await page.get_by_label("E-mail address").fill(SELLER)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Messages").wait_for()
    await page.screenshot(path=shots / "02-messages.png", full_page=True)

    await page.get_by_role("link", name=re.compile("^Need a response")).click()
    await page.wait_for_url(re.compile(r"show=needs_response"))
    assert await row(page, "Lamp base size").count() == 1
    assert await row(page, "Invoice please").count() == 1
    assert await page.locator("[data-count=needs_response]").inner_text() == "2"
    await page.screenshot(path=shots / "03-need-a-response.png", full_page=True)

    await row(page, "Lamp base size").get_by_role("link").click()
    await page.get_by_role("heading", name=f"Order {web.conv.order_id}").wait_for()
    assert "is the lamp base size 2?" in await page.locator(".thread").inner_text()
    # The HTML part, in its sandboxed frame: shown, its script stripped (and none would run).
    await page.get_by_text("Formatted version").click()
    formatted = page.frame_locator("iframe[sandbox]").locator("b")
    assert await formatted.inner_text() == "size 2"
    assert await page.title() != "ran"
    await page.screenshot(path=shots / "04-conversation.png", full_page=True)
    # Choosing a template shows its form (the script submits the chooser).
    await page.get_by_label("Template", exact=True).select_option("out_of_stock")
    await page.get_by_label("Item").wait_for()
    await page.get_by_label("Item").fill("the lamp base in size 2")
    await page.get_by_label("Restock date").fill("December 20")
    await page.get_by_text("What the buyer gets").click()
    assert "out of stock: the lamp base in size 2." in await page.locator(
        ".preview").inner_text()  # the preview follows the fields
    await page.screenshot(path=shots / "05-template.png", full_page=True)
    await page.get_by_role("button", name="Send").first.click()
    await page.get_by_text("Your message was sent.").wait_for()
    await page.screenshot(path=shots / "06-sent.png", full_page=True)
    got = await web.capture.wait_for(4)
    assert got[-1].rcpt_tos == [BUYER] and "the lamp base in size 2" in got[-1].data.decode()

    await page.get_by_role("link", name="Messages", exact=True).click()
    await page.get_by_role("link", name=re.compile("^Need a response")).click()
    await page.wait_for_url(re.compile(r"show=needs_response"))
    assert await row(page, "Lamp base size").count() == 0  # answered: out of the filter
    assert await row(page, "Invoice please").count() == 1
    assert await page.locator("[data-count=needs_response]").inner_text() == "1"
    await page.screenshot(path=shots / "07-answered-drops-out.png", full_page=True)
    await row(page, "Invoice please").get_by_role("button", name="No response needed").click()
    await page.get_by_text("No messages match these filters.").wait_for()
    assert await page.locator("[data-count=needs_response]").inner_text() == "0"
    await page.screenshot(path=shots / "08-no-response-needed.png", full_page=True)

    # A refused answer: the reason in words, and the form as it was, the file too.
    await page.goto(f"{web.base}/conversations/{web.second.id}")
    await page.get_by_text("Write your own message").click()
    await page.get_by_label("Subject").fill("Your invoice")
    body = f"The invoice is attached. Questions? Call me on {PHONE}."
    await page.get_by_label("Message", exact=True).fill(body)
    await page.locator("#text-files").set_input_files(files=[{
        "name": "invoice.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()}])
    sent_before = len(web.capture.messages)
    await page.locator("form[data-answer]").filter(has=page.get_by_label("Subject")).get_by_role(
        "button", name="Send").click()
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "Phone numbers are not allowed in messages." in await alert.inner_text()
    assert await page.get_by_label("Subject").input_value() == "Your invoice"
    assert await page.get_by_label("Message", exact=True).input_value() == body
    assert await page.locator("#text-files").evaluate("input => input.files.length") == 1
    assert len(web.capture.messages) == sent_before
    await page.screenshot(path=shots / "09-refused.png", full_page=True)

    await page.get_by_role("link", name="Response time").click()
    chart = page.locator("svg#late-chart")
    await chart.wait_for()
    assert await page.get_by_role("heading", name=re.compile(r"^Last \d+ days$")).count() == 3
    late = [float(h) for h in await page.locator("#late-chart rect.late").evaluate_all(
        "bars => bars.map(b => b.getAttribute('height'))")]
    assert len(late) == 30 and sum(1 for h in late if h > 0) == 3, late
    assert (await chart.bounding_box())["height"] > 100
    await page.screenshot(path=shots / "10-response-time.png", full_page=True)
    # No policy violation, no failed load (but the refused answer's 409, which is the point).
    assert [e for e in errors if "409 (Conflict)" not in e] == [], errors


async def test_the_pages_on_a_phone_and_by_keyboard(browser, web, shots):
    page = await signed_in(browser, web, viewport=PHONE_SCREEN, is_mobile=True,
                           has_touch=True, device_scale_factor=2)
    # Nothing wider than the phone (a mobile browser would widen its layout to fit it).
    wide = f"document.documentElement.scrollWidth <= {PHONE_SCREEN['width']}"
    assert await page.evaluate(wide)
    await page.screenshot(path=shots / "11-phone-messages.png", full_page=True)
    # j moves to the first message, Enter opens it.
    await page.keyboard.press("j")
    focused = await page.evaluate("document.activeElement.textContent")
    assert re.fullmatch(r"112-\d{7}-\d{7}", focused.strip()), focused
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name=f"Order {focused.strip()}").wait_for()
    assert await page.evaluate(wide)
    await page.screenshot(path=shots / "12-phone-conversation.png", full_page=True)
    await page.goto(web.base + "/response-time")
    await page.locator("svg#late-chart").wait_for()
    assert await page.evaluate(wide)
    await page.screenshot(path=shots / "13-phone-response-time.png", full_page=True)


async def test_reading_and_marking_work_without_javascript(browser, web, shots):
    page = await signed_in(browser, web, viewport=DESKTOP, java_script_enabled=False)
    await page.get_by_label("Order ID").fill(web.second.order_id)
    await page.get_by_role("button", name="Apply").click()
    await row(page, "Invoice please").get_by_role("link").click()
    await page.get_by_role("heading", name=f"Order {web.second.order_id}").wait_for()
    await page.get_by_role("button", name=re.compile("^Mark all as read")).click()
    await page.get_by_role("heading", name=f"Order {web.second.order_id}").wait_for()
    assert await page.get_by_role("button", name=re.compile("^Mark all as read")).count() == 0
    # Without the script the template is chosen with a button.
    await page.get_by_label("Template", exact=True).select_option("invoice")
    await page.get_by_role("button", name="Choose").click()
    await page.get_by_label("Invoice number").wait_for()
    await page.screenshot(path=shots / "14-no-script.png", full_page=True)
