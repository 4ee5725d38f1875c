"""The Tokens panel: one chip per token, in order, with the API's ids, pieces and offsets."""

from playwright.sync_api import expect


def chips(page) -> list:
    return page.get_by_test_id("token-chip").evaluate_all(
        "nodes => nodes.map(n => ({id: Number(n.dataset.id), text: n.dataset.text, token: n.dataset.token}))"
    )


def test_qwen_seed_example_shows_five_chips_with_their_ids(visit, qwen_url):
    page = visit(qwen_url).page
    page.get_by_test_id("tokenize-input").fill("Hi, 你好~")
    page.get_by_test_id("tokenize-submit").click()
    expect(page.get_by_test_id("token-chip")).to_have_count(5)
    assert chips(page) == [
        {"id": 13048, "text": "Hi", "token": "Hi"},
        {"id": 11, "text": ",", "token": ","},
        {"id": 220, "text": " ", "token": "Ġ"},
        {"id": 108386, "text": "你好", "token": "ä½łå¥½"},
        {"id": 93, "text": "~", "token": "~"},
    ]
    expect(page.get_by_test_id("token-chip")).to_contain_text(["Hi13048", ",11", "␣220", "你好108386", "~93"])
    expect(page.get_by_test_id("tokenize-counts")).to_have_text("5 tokens · 7 characters")
    # Hover or focus shows the id, the vocabulary piece and the character offsets.
    third = page.get_by_test_id("token-chip").nth(2)
    third.focus()
    details = third.locator(".chip-details")
    expect(details).to_be_visible()
    expect(details).to_have_text('id 220 · piece "Ġ" · characters 3–4')


def test_chips_match_the_api_with_and_without_special_tokens(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    text = "the cat sat on the mat"
    page.get_by_test_id("tokenize-input").fill(text)
    page.get_by_test_id("tokenize-submit").click()
    for special in (False, True):
        if special:
            page.get_by_test_id("tokenize-special").check()
        answer = seen.api("POST", "/tokenize", {"inputs": text, "add_special_tokens": special})
        ids = answer["body"]["data"][0]["ids"]
        expect(page.get_by_test_id("token-chip")).to_have_count(len(ids))
        assert [chip["id"] for chip in chips(page)] == ids
    assert chips(page)[0]["token"] == "[CLS]"
    expect(page.get_by_test_id("token-chip").first).to_have_class("chip c0 special")
