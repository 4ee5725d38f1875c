"""Fixtures of the playground's browser suite (run by scripts/browser-check.sh).

The runner starts the servers and passes them in the environment:
  PLAYGROUND_DEMO_URL   the bundled demo (model and word2vec store)
  PLAYGROUND_QWEN_URL   a model with Qwen2.5's real tokenizer and the demo store (optional)
  PLAYGROUND_KEYS_URL   the demo with PLAYGROUND_API_KEY configured as its API key
  PLAYGROUND_STORELESS_URL  a model (model2vec's test model when present) and no word2vec store
  CHROMIUM              the browser executable (Debian's chromium)
  AXE_JS                axe-core's axe.min.js
  SCREENSHOT_DIR        where the panel screenshots go
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with scripts/browser-check.sh")
    return value


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=setting("CHROMIUM"))
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def demo_url() -> str:
    return setting("PLAYGROUND_DEMO_URL")


@pytest.fixture(scope="session")
def qwen_url() -> str:
    url = os.environ.get("PLAYGROUND_QWEN_URL")
    if not url:
        pytest.skip("no Qwen tokenizer fixture (PLAYGROUND_QWEN_URL unset)")
    return url


@pytest.fixture(scope="session")
def keys_url() -> str:
    return setting("PLAYGROUND_KEYS_URL")


@pytest.fixture(scope="session")
def storeless_url() -> str:
    return setting("PLAYGROUND_STORELESS_URL")


@pytest.fixture(scope="session")
def api_key() -> str:
    return setting("PLAYGROUND_API_KEY")


@pytest.fixture(scope="session")
def axe_source() -> str:
    return Path(setting("AXE_JS")).read_text()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = Path(setting("SCREENSHOT_DIR"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Visit:
    """A page on one server, with what it logged and every request it made."""

    page: Page
    base: str
    console_errors: list = field(default_factory=list)
    requests: list = field(default_factory=list)

    def foreign_requests(self) -> list:
        """Requests that left the page's origin (blob: downloads are the page's own data)."""
        return [url for url in self.requests if not url.startswith((self.base + "/", "blob:", "data:"))]

    def api(self, method: str, path: str, body=None, key=None) -> dict:
        """Calls the API from inside the page with fetch: same origin, no page code involved."""
        return self.page.evaluate(
            """async ([method, path, body, key]) => {
                const headers = {"Content-Type": "application/json"};
                if (key) headers.Authorization = `Bearer ${key}`;
                const response = await fetch(path, {method, headers,
                    body: body === null ? undefined : JSON.stringify(body)});
                return {status: response.status, body: await response.json()};
            }""",
            [method, path, body, key],
        )


@pytest.fixture
def visit(browser: Browser):
    """`visit(base, color_scheme=..., width=..., wait=True)` opens the playground of `base`."""
    contexts = []

    def open_page(base: str, color_scheme: str = "light", width: int = 1100, wait: bool = True) -> Visit:
        context = browser.new_context(
            color_scheme=color_scheme,
            viewport={"width": width, "height": 900},
            accept_downloads=True,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        seen = Visit(page, base)
        page.on("console", lambda message: message.type == "error" and seen.console_errors.append(message.text))
        page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
        page.on("request", lambda request: seen.requests.append(request.url))
        page.goto(base + "/")
        if wait:
            page.wait_for_selector("body[data-ready=true]", state="attached")
        return seen

    yield open_page
    for context in contexts:
        context.close()
