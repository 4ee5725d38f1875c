"""Screenshots of each panel on the demo, light and dark, into SCREENSHOT_DIR (the README shows
one; `scripts/browser-check.sh --update-screenshots` refreshes docs/screenshots/)."""

import pytest
from playwright.sync_api import expect

PANELS = ["tokens", "embedding", "neighbours", "map"]


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_screenshots_of_each_panel(visit, demo_url, screenshot_dir, color_scheme):
    page = visit(demo_url, color_scheme=color_scheme, width=960).page
    expect(page.get_by_test_id("map-point").first).to_be_visible()
    page.get_by_test_id("tokenize-input").fill("The cat ate a ripe mango, then said: 你好!")
    page.get_by_test_id("tokenize-submit").click()
    expect(page.get_by_test_id("token-chip").nth(10)).to_be_visible()
    page.get_by_test_id("embed-heatmap").hover(position={"x": 40, "y": 30})
    for panel in PANELS:
        path = screenshot_dir / f"{panel}-{color_scheme}.png"
        page.locator(f"#{panel}").screenshot(path=path, animations="disabled")
        assert path.stat().st_size > 5_000
