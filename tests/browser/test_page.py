"""The page as a whole: it loads cleanly and offline, fits a phone, works with the keyboard alone."""

from playwright.sync_api import expect


def test_loads_with_no_console_error_and_no_request_leaving_the_origin(visit, demo_url):
    seen = visit(demo_url)
    expect(seen.page.get_by_test_id("token-chip").first).to_be_visible()
    expect(seen.page.get_by_test_id("map-point").first).to_be_visible()
    assert seen.console_errors == []
    assert seen.foreign_requests() == []
    called = {url.split("?")[0].removeprefix(demo_url) for url in seen.requests}
    assert {"/info", "/tokenize", "/embed", "/similar", "/doesnt_match", "/vectors"} <= called, called
    expect(seen.page.get_by_test_id("model-info")).to_contain_text("model demo")


def test_fits_a_phone_without_sideways_scrolling(visit, demo_url):
    seen = visit(demo_url, width=390)
    widths = seen.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    box = seen.page.get_by_test_id("similar-submit").bounding_box()
    assert box["x"] + box["width"] <= 390


def tab_to(page, testid: str, limit: int = 80) -> None:
    """Presses Tab until the element with `testid` has focus (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.dataset.testid") == testid:
            return
    raise AssertionError(f"{testid} is not reachable with Tab")


def test_usable_with_the_keyboard_alone(visit, demo_url):
    page = visit(demo_url).page
    tab_to(page, "similar-input")
    page.keyboard.press("Control+A")
    page.keyboard.type("queen")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("similar-trail").get_by_role("button")).to_have_text(["king", "queen"])
    tab_to(page, "similar-bar")
    first = page.evaluate("document.activeElement.dataset.word")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("similar-input")).to_have_value(first)
    expect(page.get_by_test_id("similar-trail").get_by_role("button")).to_have_text(["king", "queen", first])

    page.get_by_test_id("tokenize-input").focus()
    tab_to(page, "embed-heatmap")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    readout = page.get_by_test_id("embed-heatmap-readout")
    expect(readout).to_have_attribute("data-row", "1")
    expect(readout).to_have_attribute("data-col", "1")


def test_panels_without_a_store_say_so_and_the_others_work(visit, storeless_url):
    seen = visit(storeless_url)
    page = seen.page
    for panel in ("neighbours", "map"):
        note = page.locator(f"#{panel} .unavailable")
        expect(note).to_be_visible()
        expect(note).to_contain_text("without a word2vec store")
    expect(page.get_by_test_id("similar-submit")).to_be_disabled()
    expect(page.get_by_test_id("map-submit")).to_be_disabled()
    expect(page.locator("#tokens .unavailable")).to_be_hidden()
    expect(page.get_by_test_id("token-chip").first).to_be_visible()
    answer = seen.api("POST", "/embed", {"inputs": "the cat ate the apple", "pooling": "none"})["body"]
    expect(page.get_by_test_id("embed-heatmap")).to_have_attribute("data-cols", str(answer["dimension"]))
    expect(page.get_by_test_id("embed-similarity").locator("td[data-score]")).to_have_count(9)
    assert seen.console_errors == []
    called = {url.split("?")[0].removeprefix(storeless_url) for url in seen.requests}
    assert not called & {"/similar", "/doesnt_match", "/vectors"}, called
