"""The Neighbours panel: topn bars in score order as the API answers, exploring by picking a bar,
analogies, doesnt_match, and the API's message for an unknown word."""

from playwright.sync_api import expect


def bars(page, testid="similar-bar") -> list:
    return page.get_by_test_id(testid).evaluate_all(
        "nodes => nodes.map(n => [n.dataset.word, Number(n.dataset.score)])"
    )


def api_neighbours(seen, query: str) -> list:
    answer = seen.api("GET", query)
    assert answer["status"] == 200, answer
    return [[item["word"], item["score"]] for item in answer["body"]["data"]]


def test_topn_bars_in_score_order_and_picking_one_explores_it(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    page.get_by_test_id("similar-input").fill("cat")
    page.get_by_test_id("similar-topn").fill("5")
    page.get_by_test_id("similar-submit").click()
    expect(page.get_by_test_id("similar-bar")).to_have_count(5)
    expect(page.get_by_test_id("similar-bar").first).to_have_attribute("data-word", api_neighbours(seen, "/similar?word=cat&topn=5")[0][0])
    shown = bars(page)
    assert shown == api_neighbours(seen, "/similar?word=cat&topn=5")
    scores = [score for _, score in shown]
    assert scores == sorted(scores, reverse=True)
    widths = page.locator("#similar-bars .bar-fill").evaluate_all("nodes => nodes.map(n => n.getBoundingClientRect().width)")
    assert widths == sorted(widths, reverse=True) and widths[0] > 0

    second = shown[1][0]
    page.get_by_test_id("similar-bar").nth(1).click()
    expect(page.get_by_test_id("similar-input")).to_have_value(second)
    expect(page.get_by_test_id("similar-trail").get_by_role("button")).to_have_text(["king", "cat", second])
    expected = api_neighbours(seen, f"/similar?word={second}&topn=5")
    expect(page.get_by_test_id("similar-bar").first).to_have_attribute("data-word", expected[0][0])
    assert bars(page) == expected
    assert second not in [word for word, _ in bars(page)]


def test_analogy_and_doesnt_match(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    # The example: king - man + woman.
    expect(page.get_by_test_id("analogy-bar").first).to_have_attribute("data-word", "queen")
    page.get_by_test_id("analogy-positive").fill("paris, germany")
    page.get_by_test_id("analogy-negative").fill("france")
    page.get_by_test_id("analogy-submit").click()
    expected = api_neighbours(seen, "/similar?positive=paris,germany&negative=france&topn=5")
    expect(page.get_by_test_id("analogy-bar").first).to_have_attribute("data-word", expected[0][0])
    assert bars(page, "analogy-bar") == expected
    page.get_by_test_id("doesnt-match-input").fill("red, green, blue, python")
    page.get_by_test_id("doesnt-match-submit").click()
    expect(page.get_by_test_id("doesnt-match-result")).to_have_text("The odd one out: python")


def test_an_unknown_word_shows_the_api_message(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    page.get_by_test_id("similar-input").fill("zzzz")
    page.get_by_test_id("similar-submit").click()
    message = seen.api("GET", "/similar?word=zzzz")["body"]["error"]["message"]
    error = page.get_by_test_id("similar-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(message)
    expect(error).to_contain_text("unknown_word, HTTP 404")
    expect(page.get_by_test_id("similar-bar")).to_have_count(0)
    page.get_by_test_id("similar-topn").fill("0")
    page.get_by_test_id("similar-input").fill("cat")
    page.get_by_test_id("similar-submit").click()
    expect(error).to_contain_text(seen.api("GET", "/similar?word=cat&topn=0")["body"]["error"]["message"])
