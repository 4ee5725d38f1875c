"""The Map panel: one labelled point per word, clusters apart, a neighbourhood around one word,
the Embedding Projector's two TSV files, and the API's message for an unknown word."""

import math

from playwright.sync_api import expect


def points(page) -> dict:
    found = page.get_by_test_id("map-point").evaluate_all(
        "nodes => nodes.map(n => [n.dataset.word, n.querySelector('text').textContent, Number(n.dataset.x), Number(n.dataset.y)])"
    )
    for word, label, _, _ in found:
        assert word == label
    return {word: (x, y) for word, _, x, y in found}


def test_one_labelled_point_per_word_and_clusters_apart(visit, demo_url):
    page = visit(demo_url).page
    groups = [["apple", "pear", "mango", "banana"], ["python", "java", "rust", "kotlin"], ["paris", "rome", "berlin", "tokyo"]]
    words = [word for group in groups for word in group]
    page.get_by_test_id("map-input").fill(", ".join(words))
    page.get_by_test_id("map-submit").click()
    expect(page.get_by_test_id("map-point")).to_have_count(len(words))
    shown = points(page)
    assert sorted(shown) == sorted(words)

    def spread(a, b):
        return sum(math.dist(shown[x], shown[y]) for x in a for y in b) / (len(a) * len(b))

    within = max(spread(group, group) for group in groups)
    between = min(spread(a, b) for a in groups for b in groups if a is not b)
    assert within < between / 2, (within, between)
    expect(page.get_by_test_id("map-caption")).to_contain_text("12 words of 48 dimensions")


def test_a_word_maps_its_neighbourhood_and_the_projector_files_download(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    page.get_by_test_id("map-input").fill("cat")
    page.get_by_test_id("map-topn").fill("7")
    page.get_by_test_id("map-submit").click()
    expect(page.get_by_test_id("map-point")).to_have_count(8)
    neighbours = [item["word"] for item in seen.api("GET", "/similar?word=cat&topn=7")["body"]["data"]]
    assert sorted(points(page)) == sorted(["cat", *neighbours])
    expect(page.locator(".point.query")).to_have_attribute("data-word", "cat")

    vectors = seen.api("POST", "/vectors", {"words": ["cat", *neighbours]})["body"]["data"]
    with page.expect_download() as download:
        page.get_by_test_id("map-download-vectors").click()
    assert download.value.suggested_filename == "vectors.tsv"
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert [[float(v) for v in line.split("\t")] for line in lines] == [item["embedding"] for item in vectors]
    with page.expect_download() as download:
        page.get_by_test_id("map-download-metadata").click()
    assert open(download.value.path(), encoding="utf-8").read().splitlines() == ["cat", *neighbours]

    # Picking a point maps that word's neighbourhood.
    page.locator('[data-testid="map-point"][data-word="%s"]' % neighbours[0]).click()
    expect(page.locator(".point.query")).to_have_attribute("data-word", neighbours[0])
    expect(page.get_by_test_id("map-input")).to_have_value(neighbours[0])


def test_an_unknown_word_shows_the_api_message(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    page.get_by_test_id("map-input").fill("cat dog qwertyuiop")
    page.get_by_test_id("map-submit").click()
    message = seen.api("POST", "/vectors", {"words": ["cat", "dog", "qwertyuiop"]})["body"]["error"]["message"]
    expect(page.get_by_test_id("map-error")).to_contain_text(message)
    expect(page.get_by_test_id("map-point")).to_have_count(0)
    expect(page.get_by_test_id("map-download-vectors")).to_be_disabled()
