"""A real browser for the UI tests: Playwright driving the system's Chromium, never a downloaded one.

The browser is Debian's `chromium` package (`/usr/bin/chromium`, or `$CHROMIUM` if set). Without
Playwright or Chromium the UI test is skipped on a developer machine and fails in CI.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 1400}


def require_browser() -> None:
    """Skip when Playwright or Chromium is missing here, unless CI is set: then fail with the reason."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[test]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if not missing:
        return
    reason = " and ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(f"{reason} missing, and CI must run the browser test")
    pytest.skip(f"{reason} missing here and CI is unset (CI runs this test)")


def launch(playwright: Any) -> Any:
    """Headless Chromium; a browser that is installed but cannot start fails the test with its error."""
    try:
        return playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            # root in a container: no user namespaces for the sandbox; /dev/shm may be small
            args=["--no-sandbox", "--disable-dev-shm-usage"], timeout=60_000)
    except Exception as error:  # noqa: BLE001 - any launch failure is the test's failure reason
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}")


def artifacts_dir() -> Path:
    """Where screenshots go: `$ANALYTICS_TEST_ARTIFACTS/browser`, else `test-artifacts/browser/`."""
    root = os.environ.get("ANALYTICS_TEST_ARTIFACTS")
    path = (Path(root) if root else REPO / "test-artifacts") / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Screens:
    """Numbered screenshots of each step, in the artifacts directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0
        for old in directory.glob("*.png"):
            old.unlink()

    def _path(self, name: str) -> Path:
        self.count += 1
        return self.directory / f"{self.count:02d}-{name}.png"

    def shot(self, target: Any, name: str) -> Path:
        """Screenshot a page or one element (a dialog) of it."""
        path = self._path(name)
        target.screenshot(path=str(path), animations="disabled")
        return path

    def failure(self, page: Any) -> None:
        """A screenshot of where a failed test stopped; never hides the failure itself."""
        if page is None or page.is_closed():
            return
        try:
            self.shot(page, "failure")
        except Exception:  # noqa: BLE001 - the test's own error is the one to report
            pass

    def side_by_side(self, browser: Any, name: str, *images: Path) -> Path:
        """Several screenshots next to each other in one image, laid out by the browser itself."""
        page = browser.new_page(viewport={"width": 800, "height": 600})
        try:
            tags = "".join(
                f'<img src="data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()}">'
                for image in images)
            page.set_content(
                "<html><body style='margin:0;background:#fff'><div id='all' style='display:inline-flex;"
                f"gap:24px;padding:24px;align-items:flex-start;background:#e2e8f0'>{tags}</div></body></html>")
            page.wait_for_function("[...document.images].every(i => i.complete)")
            path = self._path(name)
            page.locator("#all").screenshot(path=str(path))
            return path
        finally:
            page.close()


def publish(image: Path, name: str) -> None:
    """Copy a screenshot to docs/images/ when `ANALYTICS_UPDATE_DOCS_IMAGES` is set."""
    if os.environ.get("ANALYTICS_UPDATE_DOCS_IMAGES"):
        target = REPO / "docs" / "images" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target)


def labelled_field(scope: Any, label: str) -> Any:
    """The form field (Chakra's field root) whose label starts with `label`.

    Airflow's forms do not always tie the <label> to its input (`for` points at another id for
    text inputs and selects generated from a schema), so `get_by_label` cannot find them.
    """
    page = scope.page
    return scope.locator("[data-scope=field][data-part=root]").filter(
        has=page.locator("label[data-part=label]", has_text=re.compile(rf"^\s*{re.escape(label)}")))


def accordion_panel(scope: Any, title: str) -> Any:
    """The content of the accordion section titled `title`, found through its button's aria-controls.

    (Airflow uses titles with spaces as the sections' ids, so `aria-labelledby` of those panels
    does not resolve and `get_by_role("region", name=...)` finds nothing.)
    """
    controls = scope.get_by_role("button", name=title, exact=True).get_attribute("aria-controls")
    return scope.locator(f'[id="{controls}"]')


def label_texts(scope: Any) -> list[str]:
    """The visible field labels inside `scope`, in page order, without the required-field star."""
    texts = scope.locator("label[data-part=label]:visible").all_inner_texts()
    return [text.replace("*", "").strip() for text in texts]


def assert_not_on_page(page: Any, secret: str, where: str) -> None:
    """The secret is nowhere in the page: not its text, its HTML, nor any form control's value."""
    assert secret not in page.inner_text("body"), f"{where}: the key is in the page text"
    assert secret not in page.content(), f"{where}: the key is in the page's HTML"
    values = page.evaluate("() => [...document.querySelectorAll('input, textarea')].map(e => e.value)")
    assert not any(secret in value for value in values), f"{where}: the key is in a form field"
