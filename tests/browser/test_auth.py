"""With an API key configured: the page loads without one, asks for it, refuses calls without
it, works with it, and keeps it in sessionStorage only, never in a URL."""

from playwright.sync_api import expect


def test_the_page_asks_for_the_key_and_uses_it(visit, keys_url, api_key):
    seen = visit(keys_url, wait=False)
    page = seen.page
    refusal = seen.api("GET", "/info")
    assert refusal["status"] == 401
    expect(page.get_by_test_id("key-panel")).to_be_visible()
    expect(page.get_by_test_id("key-reason")).to_contain_text(refusal["body"]["error"]["message"])
    assert seen.api("POST", "/tokenize", {"inputs": "cat"})["status"] == 401

    page.get_by_test_id("key-input").fill("not-the-key")
    page.get_by_test_id("key-submit").click()
    expect(page.get_by_test_id("key-reason")).to_contain_text("unauthorized, HTTP 401")
    expect(page.get_by_test_id("token-chip")).to_have_count(0)

    page.get_by_test_id("key-input").fill(api_key)
    page.get_by_test_id("key-submit").click()
    page.wait_for_selector("body[data-ready=true]", state="attached")
    expect(page.get_by_test_id("token-chip").first).to_be_visible()
    expect(page.get_by_test_id("map-point").first).to_be_visible()
    expect(page.get_by_test_id("key-reason")).to_be_hidden()
    assert seen.api("POST", "/tokenize", {"inputs": "cat"}, key=api_key)["status"] == 200

    assert page.evaluate("sessionStorage.getItem('embedserve.apiKey')") == api_key
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    assert all(api_key not in url for url in seen.requests)
    assert api_key not in page.url

    page.get_by_test_id("key-forget").click()
    assert page.evaluate("sessionStorage.getItem('embedserve.apiKey')") is None
    page.get_by_test_id("similar-submit").click()
    expect(page.get_by_test_id("similar-error")).to_contain_text("unauthorized, HTTP 401")
