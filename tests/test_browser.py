"""End to end in headless Chromium: ``icrag app`` serves, a person asks, opens a citation and reads it.

Needs Debian's ``/usr/bin/chromium`` (``.ci/run`` installs it; ``playwright install`` cannot
download browsers here). Screenshots go to ``artifacts/`` for people to look at.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fixtures_app import IMAGE, SCRIPT, build_corpus_index
from helpers import ICRAG, REPO_ROOT, bundled_index_or_skip, server_environment, stop_session

from index.embedding import Embedder
from index.network import free_port
from index.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "artifacts"
#: Starting the server loads the model; the first answer warms the index (slow on two cores).
START_TIMEOUT_S = 180
WAIT_MS = 180_000
#: Tries at selecting a row of a table, and how long each waits for the page to show the selection.
SELECT_TRIES = 3
SELECT_WAIT_S = 60
#: The evidence map of the bundled index, for people to look at.
MAP_SCREENSHOT = Path("/tmp/evidence_map.png")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium driven by Playwright, or a skip that says what to install."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; install it with `apt-get install -y chromium` (CI's .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is in the dev extra")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def served_app(settings: Settings, log: Path) -> Iterator[str]:
    """``icrag app --port N`` on a free port for these settings; its URL once it answers."""
    port = free_port()
    environment = server_environment(settings)
    command = [str(ICRAG), "app", "--port", str(port)]
    with open(log, "w") as output:
        # A session of its own, so stopping it also stops the Streamlit server `icrag app` starts.
        server = subprocess.Popen(
            command, env=environment, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for_health(url, server, log)
            yield url
        finally:
            stop_session(server)


def wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"icrag app exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"icrag app did not answer within {START_TIMEOUT_S}s:\n{log.read_text()}")


def settle(page: Page) -> None:
    """Wait until the script run triggered by the last interaction has finished and its spinners are gone."""
    page.wait_for_timeout(500)  # the rerun request reaches the server in milliseconds
    page.wait_for_function(
        """() => document.querySelector('[data-testid=stApp]')?.dataset.testScriptState === 'notRunning'
                 && !document.querySelector('[data-testid=stSpinner]')""",
        timeout=WAIT_MS,
    )


def screenshot(page: Page, path: Path) -> Path:
    """The whole page (Streamlit scrolls inside the page, so the window grows to fit it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    bottom = "() => document.querySelector('[data-testid=stMainBlockContainer]').getBoundingClientRect().bottom"
    page.set_viewport_size({"width": 1400, "height": 8000})  # tall enough that nothing scrolls
    page.wait_for_timeout(500)
    page.set_viewport_size({"width": 1400, "height": min(max(int(page.evaluate(bottom)), 900), 8000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 900})
    return path


def ask(page: Page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.wait_for(timeout=WAIT_MS)
    box.fill(question)
    box.press("Enter")
    page.locator(".icrag-answer, [data-testid=stAlertContentWarning]").first.wait_for(timeout=WAIT_MS)
    settle(page)


def select_row(page: Page, first_cell: str, shown: str) -> None:
    """Select the row of the page's first table whose cell reads ``first_cell``, then wait for ``shown``.

    The grid draws on a canvas; the accessible table inside it holds each row's text and number,
    and the keyboard moves the grid's cursor. A keypress sent while the grid is still drawing is
    lost, so the selection is tried again (at most ``SELECT_TRIES`` times) until the page shows it.
    """
    table = page.locator("[data-testid=stDataFrame]").first
    table.scroll_into_view_if_needed()
    row = table.locator("tr[role=row]", has=page.locator("td", has_text=re.compile(rf"^{re.escape(first_cell)}$")))
    row.wait_for(state="attached", timeout=WAIT_MS)
    below_first = int(row.get_attribute("aria-rowindex") or 0) - 2  # row 1 is the header
    for _ in range(SELECT_TRIES):
        table.locator("td[role=gridcell]").first.focus()  # the grid's cursor, on the first row
        for _ in range(below_first):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Shift+Space")  # selects the cursor's row
        deadline = time.monotonic() + SELECT_WAIT_S
        while time.monotonic() < deadline:
            if page.get_by_text(shown).count():
                settle(page)
                return
            page.wait_for_timeout(500)
        settle(page)
    pytest.fail(f"selecting the row {first_cell} never showed {shown!r}")


def assert_no_failures(page: Page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    errors = page.locator("[data-testid=stAlertContentError]")
    assert errors.count() == 0, errors.all_inner_texts()


def test_planted_script_in_a_cited_passage_is_shown_as_text(
    browser: Browser, tmp_path: Path, cache_dir: Path, embedder: Embedder
) -> None:
    settings = build_corpus_index(tmp_path, cache_dir, embedder)
    with served_app(settings, tmp_path / "app.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        dialogs: list[str] = []

        def dismiss(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.goto(url)
        ask(page, "What does working with power mean for leaders?")
        assert "[1]" in page.locator(".icrag-answer").inner_text()

        references = page.locator("[data-testid=stExpander] summary").filter(has_text="Smith et al.")
        assert references.count() >= 1
        for i in range(references.count()):
            references.nth(i).click()
        cards = page.locator(".icrag-card")
        cards.first.wait_for(state="visible")
        shown = "\n".join(cards.all_inner_texts())
        assert SCRIPT in shown and IMAGE in shown  # literal text, as written in the document
        assert page.locator(".icrag-card mark").count() >= 1

        assert page.evaluate("() => window.__xss") is None
        assert page.evaluate("() => [...document.scripts].some(s => s.textContent.includes('__xss'))") is False
        assert page.locator(".icrag-card img, .icrag-card script").count() == 0
        assert dialogs == []
        assert_no_failures(page)
        screenshot(page, ARTIFACTS / "browser" / "planted-script-evidence-card.png")


@pytest.mark.slow
def test_every_page_on_the_bundled_index(browser: Browser, tmp_path: Path) -> None:
    """What a first-time user sees on each page, on the real corpus (screenshots in artifacts/screenshots)."""
    settings = bundled_index_or_skip()
    shots = ARTIFACTS / "screenshots"
    with served_app(settings, tmp_path / "app.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        ask(page, "Which leadership skills did Nieuwboer et al. find important for integrating care?")
        page.locator("[data-testid=stExpander] summary").first.click()
        page.locator(".icrag-card mark").first.wait_for(state="visible")
        assert_no_failures(page)
        screenshot(page, shots / "ask.png")

        page.get_by_role("link", name="Evidence").click()
        evidence_map = page.locator("[data-testid=stVegaLiteChart]").first
        evidence_map.wait_for(timeout=WAIT_MS)
        settle(page)
        evidence_map.screenshot(path=str(MAP_SCREENSHOT))
        cell = evidence_map.locator('g.mark-text text[aria-label*="England"][aria-label*="creating the conditions"]')
        cell.click()  # a click on a cell's numbers selects the cell, as a click on its square does
        page.get_by_text("Map cell: creating the conditions × England").wait_for(timeout=WAIT_MS)
        settle(page)
        assert page.get_by_text("1 of 117 records").count() == 1
        page.get_by_role("button", name="Show all cells").click()
        page.get_by_text("117 of 117 records").wait_for(timeout=WAIT_MS)
        settle(page)
        select_row(page, "S08", "Review passages on this finding")
        assert page.get_by_role("heading", name=re.compile(r"^S08 · ")).count() == 1
        assert_no_failures(page)
        screenshot(page, shots / "evidence.png")

        page.get_by_role("link", name="Library").click()
        page.get_by_text("Add documents").wait_for(timeout=WAIT_MS)
        settle(page)
        assert_no_failures(page)
        screenshot(page, shots / "library.png")

        page.get_by_role("link", name="Evaluate").click()
        limit = page.get_by_label("Only the first N questions (0 = all)")
        limit.fill("5")
        limit.press("Enter")
        settle(page)
        page.get_by_role("button", name="Run evaluation").click()
        page.get_by_text("Per question").wait_for(timeout=WAIT_MS)
        settle(page)
        pick = page.get_by_label("Look at one question")
        pick.click()
        pick.press("ArrowDown")  # the list opens from the keyboard; a click only focuses the box
        page.get_by_role("option").first.click()
        page.get_by_text("Unsupported sentences").wait_for(timeout=WAIT_MS)
        settle(page)
        assert_no_failures(page)
        screenshot(page, shots / "evaluate.png")
