"""The Embedding panel: the heatmap has a row per token and a column per dimension, and reads out
the API's values; the pooled vector and the similarity matrix of several texts."""

from playwright.sync_api import expect


def test_heatmap_has_the_shape_and_values_of_the_token_rows(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    texts = ["the cat ate the apple", "python and java are programming languages"]
    page.get_by_test_id("embed-input").fill("\n".join(texts))
    page.get_by_test_id("embed-submit").click()
    expect(page.get_by_test_id("embed-which").locator("option")).to_have_count(2)
    answer = seen.api("POST", "/embed", {"inputs": texts, "pooling": "none"})["body"]
    rows, dimension = answer["data"][0]["shape"]
    heatmap = page.get_by_test_id("embed-heatmap")
    expect(heatmap).to_have_attribute("data-rows", str(rows))
    expect(heatmap).to_have_attribute("data-cols", str(dimension))
    cell_width = int(heatmap.get_attribute("data-cell-width"))
    cell_height = int(heatmap.get_attribute("data-cell-height"))
    assert heatmap.evaluate("c => [c.width, c.height]") == [dimension * cell_width, rows * cell_height]
    expect(page.locator(".heatmap-labels").first.locator("li")).to_have_text(answer["data"][0]["tokens"])
    # The value under the pointer is the API's.
    for row, col in [(0, 0), (rows - 1, dimension - 1), (2, 17)]:
        heatmap.hover(position={"x": col * cell_width + cell_width / 2, "y": row * cell_height + cell_height / 2})
        readout = page.get_by_test_id("embed-heatmap-readout")
        expect(readout).to_have_attribute("data-row", str(row))
        expect(readout).to_have_attribute("data-col", str(col))
        assert float(readout.get_attribute("data-value")) == answer["data"][0]["embedding"][row][col]
    # Adjacent cells of different values are drawn in different colours.
    colours = heatmap.evaluate(
        f"c => [...Array({dimension}).keys()].map(x => c.getContext('2d').getImageData(x * {cell_width}, 1, 1, 1).data.join())"
    )
    assert len(set(colours)) > dimension // 4, colours

    page.get_by_test_id("embed-which").select_option("1")
    expect(heatmap).to_have_attribute("data-rows", str(answer["data"][1]["shape"][0]))
    expect(page.get_by_test_id("embed-pooled")).to_have_attribute("data-rows", "1")
    expect(page.get_by_test_id("embed-pooled")).to_have_attribute("data-cols", str(dimension))


def test_similarity_matrix_of_several_texts(visit, demo_url):
    page = visit(demo_url).page
    page.get_by_test_id("embed-input").fill("the cat ate the apple\nthe dog ate the pear\npython and java are programming languages")
    page.get_by_test_id("embed-submit").click()
    table = page.get_by_test_id("embed-similarity")
    expect(table.locator("td[data-score]")).to_have_count(9)
    scores = table.locator("td[data-score]").evaluate_all("cells => cells.map(c => Number(c.dataset.score))")
    for i in range(3):
        assert abs(scores[i * 3 + i] - 1) < 1e-6
        for j in range(3):
            assert abs(scores[i * 3 + j] - scores[j * 3 + i]) < 1e-9
    # The two sentences about animals and food are closer to each other than to the languages.
    assert scores[1] > scores[2] and scores[1] > scores[5]
    page.get_by_test_id("embed-input").fill("a single text")
    page.get_by_test_id("embed-submit").click()
    expect(table).to_have_count(0)


def test_an_api_refusal_shows_its_message(visit, demo_url):
    seen = visit(demo_url)
    page = seen.page
    too_many = "\n".join(f"text {i}" for i in range(65))
    page.get_by_test_id("embed-input").fill(too_many)
    page.get_by_test_id("embed-submit").click()
    refusal = seen.api("POST", "/embed", {"inputs": too_many.split("\n"), "pooling": "none"})
    assert refusal["status"] == 422
    error = page.get_by_test_id("embed-error")
    expect(error).to_contain_text(refusal["body"]["error"]["message"])
    expect(error).to_contain_text("validation_error, HTTP 422")
    expect(page.get_by_test_id("embed-heatmap")).to_be_hidden()
