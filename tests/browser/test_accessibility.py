"""axe-core on the filled page, light and dark: no serious or critical violations."""

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_no_serious_or_critical_axe_violations(visit, demo_url, axe_source, color_scheme):
    page = visit(demo_url, color_scheme=color_scheme).page
    expect(page.get_by_test_id("map-point").first).to_be_visible()
    # An error shown too, so its colours are checked.
    page.get_by_test_id("similar-input").fill("zzzz")
    page.get_by_test_id("similar-submit").click()
    expect(page.get_by_test_id("similar-error")).to_be_visible()
    # Evaluated through the DevTools protocol, which the page's CSP does not restrict.
    page.evaluate(axe_source)
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
