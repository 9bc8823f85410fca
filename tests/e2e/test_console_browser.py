"""The web console in a real browser: Debian's Chromium, driven by Selenium through
chromedriver, against a real `taskhub api`, worker and Beat (SQLite, the test Redis).

Without a browser the test skips saying so; .ci/run installs one and requires it
(TASKHUB_TEST_REQUIRE_SERVICES=1). Screenshots go to the test's temporary folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import Stack, running_stack
from tests.support.databases import REQUIRE_SERVICES_ENV, _unavailable, migrated_database

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PASSWORD = "correct horse battery"
WAIT_SECONDS = 30.0


@pytest.fixture(scope="module")
def console_stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("console")
    with (
        migrated_database("sqlite", directory) as database_url,
        leased_redis_database(redis_url) as broker_url,
        running_stack(
            database_url=database_url, broker_url=broker_url, directory=directory
        ) as stack,
    ):
        yield stack


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        _unavailable(
            f"no Chromium and chromedriver on PATH (apt-get install chromium chromium-driver;"
            f" {REQUIRE_SERVICES_ENV}=1 makes this a failure)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _account(stack: Stack) -> str:
    email = f"console-{uuid4().hex[:8]}@example.com"
    response = httpx.post(
        f"{stack.api_url}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD},
        trust_env=False,
    )
    assert response.status_code == 202, response.text
    return email


def _waiting(browser: WebDriver) -> WebDriverWait[WebDriver]:
    # The page's live parts are swapped by htmx every few seconds: an element found just
    # before a swap is stale a moment later, so each look is simply tried again.
    return WebDriverWait(
        browser,
        WAIT_SECONDS,
        poll_frequency=0.2,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )


def _wait_for_text(browser: WebDriver, element_id: str, text: str) -> None:
    _waiting(browser).until(
        lambda b: text in b.find_element(By.ID, element_id).text,
        f"#{element_id} to show {text!r}",
    )


def _click(browser: WebDriver, element_id: str) -> None:
    def clicked(b: WebDriver) -> bool:
        b.find_element(By.ID, element_id).click()
        return True

    _waiting(browser).until(clicked, f"#{element_id} to be clicked")


def _submit_countdown(browser: WebDriver, base: str, *, name: str, seconds: str) -> None:
    browser.get(f"{base}/ui/tasks/new?task_type=countdown")
    browser.find_element(By.ID, "name").clear()
    browser.find_element(By.ID, "name").send_keys(name)
    field = browser.find_element(By.ID, "input-seconds")
    field.clear()
    field.send_keys(seconds)
    browser.find_element(By.ID, "submit").click()


def test_a_user_signs_in_submits_watches_cancels_and_signs_out(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    email = _account(console_stack)
    browser.get(f"{base}/ui/tasks")
    assert browser.current_url == f"{base}/ui/login"  # no session yet
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Your tasks"

    # An invalid argument: the API's own message, beside the input, what was typed kept.
    _submit_countdown(browser, base, name="too short", seconds="-1")
    error = browser.find_element(By.ID, "error-arg-seconds")
    assert "greater than or equal to 0" in error.text
    assert browser.find_element(By.ID, "input-seconds").get_attribute("aria-invalid") == "true"
    browser.save_screenshot(str(tmp_path / "console-submit-error.png"))

    # A valid one: its page follows the run to the end without being reloaded.
    _submit_countdown(browser, base, name="watched countdown", seconds="2")
    assert browser.find_element(By.ID, "task-name").text == "watched countdown"
    browser.execute_script("window.stillTheSamePage = true;")
    _wait_for_text(browser, "task-status", "completed")
    assert browser.execute_script("return window.stillTheSamePage === true;")
    assert browser.find_element(By.ID, "task-progress").get_attribute("value") == "100"
    assert browser.find_element(By.ID, "result-values").is_displayed()
    browser.save_screenshot(str(tmp_path / "console-task-completed.png"))

    # A long one, cancelled from its page.
    _submit_countdown(browser, base, name="to cancel", seconds="600")
    _click(browser, "cancel")
    _wait_for_text(browser, "task-status", "cancelled")

    browser.get(f"{base}/ui/tasks")
    names = _waiting(browser).until(
        lambda b: [
            row.find_element(By.CSS_SELECTOR, "td a").text
            for row in b.find_elements(By.CSS_SELECTOR, "tr[data-task-id]")
        ],
        "the task list to be read",
    )
    assert names == ["to cancel", "watched countdown"]  # newest first
    browser.save_screenshot(str(tmp_path / "console-task-list.png"))

    browser.find_element(By.ID, "sign-out").click()
    assert browser.current_url == f"{base}/ui/login"
    browser.get(f"{base}/ui/tasks")
    assert browser.current_url == f"{base}/ui/login"  # the session is over
    print(f"screenshots in {tmp_path}")
