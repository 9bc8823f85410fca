"""The web console in a real browser: Debian's Chromium, driven by Selenium through
chromedriver, against a real `taskhub api`, worker and Beat (SQLite, the test Redis).

Covered: sign up, sign in, submit from the form and watch the run end without a reload (over the
event stream), cancel, a workflow's graph turning green, a result's table and chart, a
schedule made from its form and paused, an admin's queue page, every page on a 390 px wide
phone screen, and the console driven with the keyboard alone.

Without a browser the tests skip saying so; .ci/run installs one and requires it
(TASKHUB_TEST_REQUIRE_SERVICES=1). Screenshots go to the tests' temporary folders."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PASSWORD = "correct horse battery"
WAIT_SECONDS = 30.0
DESKTOP = (1280, 900)
PHONE_WIDTH = 390


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
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
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


def _sign_in(browser: WebDriver, base: str, email: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/ui/login")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    _waiting(browser).until(lambda b: "/ui/login" not in b.current_url, "to be signed in")


def _token(stack: Stack, email: str) -> dict[str, str]:
    """The REST API's bearer header for `email`, to set things up as a client would."""
    response = httpx.post(
        f"{stack.api_url}/api/v1/auth/token",
        data={"username": email, "password": PASSWORD},
        trust_env=False,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _rest(stack: Stack, headers: dict[str, str], path: str, body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    response = httpx.post(
        f"{stack.api_url}/api/v1{path}", json=body, headers=headers, trust_env=False
    )
    assert response.status_code == 201, response.text
    answer: dict = response.json()  # type: ignore[type-arg]
    return answer


def _requested(browser: WebDriver) -> list[str]:
    """Every URL the page has asked for since it loaded."""
    urls: list[str] = browser.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name);"
    )
    return urls


def test_a_user_signs_in_submits_watches_cancels_and_signs_out(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    email = _account(console_stack)
    browser.delete_all_cookies()
    browser.get(f"{base}/ui/tasks")
    assert browser.current_url == f"{base}/ui/login"  # no session yet
    _sign_in(browser, base, email)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Your tasks"

    # An invalid argument: the API's own message, beside the input, what was typed kept.
    _submit_countdown(browser, base, name="too short", seconds="-1")
    # The click returns before the answer has replaced the page: wait for it.
    error = _waiting(browser).until(lambda b: b.find_element(By.ID, "error-arg-seconds"))
    assert "greater than or equal to 0" in error.text
    assert browser.find_element(By.ID, "input-seconds").get_attribute("aria-invalid") == "true"
    browser.save_screenshot(str(tmp_path / "console-submit-error.png"))

    # A valid one: its page follows the run to the end without being reloaded.
    _submit_countdown(browser, base, name="watched countdown", seconds="2")
    _waiting(browser).until(lambda b: b.find_elements(By.ID, "task-name"), "the task's page")
    assert browser.find_element(By.ID, "task-name").text == "watched countdown"
    browser.execute_script("window.stillTheSamePage = true;")
    _wait_for_text(browser, "task-status", "completed")
    assert browser.execute_script("return window.stillTheSamePage === true;")
    # Told by the task's event stream, not by asking again every few seconds.
    assert browser.execute_script("return document.documentElement.dataset.followed") == "stream"
    assert any("/ui/events?task_id=" in url for url in _requested(browser))
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


def test_a_new_user_signs_up_in_the_console_and_then_signs_in(
    console_stack: Stack, browser: WebDriver
) -> None:
    base = console_stack.api_url
    email = f"new-{uuid4().hex[:8]}@example.com"
    browser.delete_all_cookies()
    browser.get(f"{base}/ui/login")
    browser.find_element(By.ID, "sign-up-link").click()
    _waiting(browser).until(lambda b: b.find_elements(By.ID, "sign-up"), "the sign-up form")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-up").click()
    _wait_for_text(browser, "login-notice", "it has one now")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)  # the email is kept
    browser.find_element(By.ID, "sign-in").click()
    _waiting(browser).until(lambda b: b.current_url.endswith("/ui/tasks"), "the task list")


def test_a_workflows_graph_turns_green_live_and_a_node_opens_its_task(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    email = _account(console_stack)
    steps = [
        {"key": "fetch", "depends_on": []},
        {"key": "train-a", "depends_on": ["fetch"]},
        {"key": "train-b", "depends_on": ["fetch"]},
        {"key": "compare", "depends_on": ["train-a", "train-b"]},
    ]
    tasks = [
        {**step, "name": step["key"], "task_type": "countdown", "kwargs": {"seconds": 1}}
        for step in steps
    ]
    workflow = _rest(
        console_stack,
        _token(console_stack, email),
        "/workflows",
        {"name": "pipeline", "tasks": tasks},
    )
    _sign_in(browser, base, email)
    browser.get(f"{base}/ui/workflows")
    _click_link(browser, "pipeline")
    assert browser.find_element(By.ID, "workflow-name").text == "pipeline"
    browser.execute_script("window.stillTheSamePage = true;")

    def statuses(b: WebDriver) -> list[str]:
        nodes = b.find_elements(By.CSS_SELECTOR, "#workflow-graph a.node")
        return [str(node.get_attribute("data-status")) for node in nodes]

    _waiting(browser).until(
        lambda b: statuses(b) == ["completed"] * 4, "every node of the graph to turn green"
    )
    assert browser.execute_script("return window.stillTheSamePage === true;")
    _wait_for_text(browser, "workflow-status", "completed")
    fill = browser.execute_script(
        "return getComputedStyle(document.querySelector('a.node rect')).fill;"
    )
    assert fill == "rgb(196, 238, 208)"  # green, and the word "completed" in the box too
    browser.save_screenshot(str(tmp_path / "console-workflow.png"))

    compare = next(t for t in workflow["tasks"] if t["key"] == "compare")
    browser.find_element(By.CSS_SELECTOR, 'a.node[data-key="compare"]').click()
    _waiting(browser).until(
        lambda b: b.current_url.endswith(f"/ui/tasks/{compare['id']}"), "the node's task page"
    )


def test_a_completed_tasks_records_are_a_sortable_table_and_a_series_a_chart(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    email = _account(console_stack)
    headers = _token(console_stack, email)
    table = _rest(console_stack, headers, "/tasks", {"name": "words", "task_type": "word_counts"})
    chart = _rest(console_stack, headers, "/tasks", {"name": "losses", "task_type": "loss_curve"})
    _sign_in(browser, base, email)

    browser.get(f"{base}/ui/tasks/{table['id']}")
    _wait_for_text(browser, "task-status", "completed")

    def words(b: WebDriver) -> list[str]:
        rows = b.find_elements(By.CSS_SELECTOR, "#result-table tbody tr")
        return [row.find_element(By.TAG_NAME, "td").text for row in rows]

    assert words(browser) == ["beta", "alpha", "gamma"]
    browser.find_element(By.CSS_SELECTOR, '#result-table button.sort[data-column="1"]').click()
    assert words(browser) == ["gamma", "beta", "alpha"]  # by count, as numbers
    browser.save_screenshot(str(tmp_path / "console-result-table.png"))

    browser.get(f"{base}/ui/tasks/{chart['id']}")
    _wait_for_text(browser, "task-status", "completed")
    figure = browser.find_element(By.ID, "result-chart")
    assert figure.is_displayed()
    assert figure.find_element(By.TAG_NAME, "figcaption").text == "loss"
    points = figure.find_element(By.TAG_NAME, "polyline").get_attribute("points") or ""
    assert len(points.split()) == 5
    browser.save_screenshot(str(tmp_path / "console-result-chart.png"))


def test_a_schedule_made_from_its_form_shows_its_next_fires_and_pauses(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    _sign_in(browser, base, _account(console_stack))
    browser.get(f"{base}/ui/schedules")
    browser.find_element(By.ID, "new-schedule").click()
    Select(browser.find_element(By.ID, "choose-type")).select_by_value("countdown")
    browser.find_element(By.ID, "choose").click()
    _waiting(browser).until(lambda b: b.find_elements(By.ID, "schedule-form"), "the form")
    browser.find_element(By.ID, "name").send_keys("hourly countdown")
    browser.find_element(By.ID, "interval_seconds").send_keys("3600")
    browser.find_element(By.ID, "input-seconds").send_keys("1")
    browser.find_element(By.ID, "create-schedule").click()
    _waiting(browser).until(lambda b: b.find_elements(By.ID, "schedule-name"), "its page")
    assert browser.find_element(By.ID, "schedule-name").text == "hourly countdown"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#next-fires li")) == 5
    browser.save_screenshot(str(tmp_path / "console-schedule.png"))

    browser.find_element(By.CSS_SELECTOR, "button.pause-schedule").click()
    _wait_for_text(browser, "schedule-state", "paused")
    assert browser.find_element(By.ID, "next-fires").text == "None while paused."
    browser.get(f"{base}/ui/schedules")
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-schedule-id]")
    assert "paused" in row.text


def test_an_admin_sees_the_queues(console_stack: Stack, browser: WebDriver, tmp_path: Path) -> None:
    base = console_stack.api_url
    email = f"admin-{uuid4().hex[:8]}@example.com"
    created = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "entrypoints.cli", "users", "create-admin", "--email", email],
        env={**os.environ, **console_stack.env(), "TASKHUB_ADMIN_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    _sign_in(browser, base, email)
    browser.find_element(By.LINK_TEXT, "Queues").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Queues"
    queues = [
        row.get_attribute("data-queue")
        for row in browser.find_elements(By.CSS_SELECTOR, "#queue-table tr[data-queue]")
    ]
    reported = httpx.get(
        f"{base}/api/v1/admin/queues", headers=_token(console_stack, email), trust_env=False
    ).json()["items"]
    assert queues == [queue["queue"] for queue in reported]  # as the REST API reports them
    # The stack's worker consumes every queue, and answers when asked.
    assert [queue["workers_online"] for queue in reported] == [1, 1, 1], reported
    online = browser.find_elements(By.CSS_SELECTOR, '#queue-table td[data-label="Workers online"]')
    assert [cell.text for cell in online] == ["1", "1", "1"]
    browser.save_screenshot(str(tmp_path / "console-queues.png"))


def test_every_page_fits_a_390_px_phone_screen(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    email = _account(console_stack)
    headers = _token(console_stack, email)
    task = _rest(console_stack, headers, "/tasks", {"name": "words", "task_type": "word_counts"})
    tasks = [
        {"key": "a", "name": "a", "task_type": "noop"},
        {"key": "b", "name": "b", "task_type": "noop", "depends_on": ["a"]},
        {"key": "c", "name": "c", "task_type": "noop", "depends_on": ["b"]},
    ]
    workflow = _rest(console_stack, headers, "/workflows", {"name": "chain", "tasks": tasks})
    _sign_in(browser, base, email)
    browser.set_window_size(PHONE_WIDTH, 844)
    try:
        width = browser.execute_script("return window.innerWidth;")
        assert width <= PHONE_WIDTH
        pages = {
            "tasks": "/ui/tasks",
            "task": f"/ui/tasks/{task['id']}",
            "submit": "/ui/tasks/new?task_type=countdown",
            "workflows": "/ui/workflows",
            "workflow": f"/ui/workflows/{workflow['id']}",
            "schedules": "/ui/schedules",
            "new-schedule": "/ui/schedules/new?task_type=countdown",
            "models": "/ui/models",
        }
        for name, path in pages.items():
            browser.get(base + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth;"
            )
            assert overflow <= 0, f"{name} is {overflow} px wider than the screen"
            browser.save_screenshot(str(tmp_path / f"console-phone-{name}.png"))
        # On the phone the task table's rows are cards, each cell labelled.
        browser.get(f"{base}/ui/tasks")
        cell = browser.find_element(By.CSS_SELECTOR, 'tr[data-task-id] td[data-label="Status"]')
        label = browser.execute_script(
            "return getComputedStyle(arguments[0], '::before').content;", cell
        )
        assert label == '"Status: "'
    finally:
        browser.set_window_size(*DESKTOP)


def test_the_console_works_with_the_keyboard_alone(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    email = _account(console_stack)
    browser.delete_all_cookies()
    browser.get(f"{base}/ui/login")
    _tab_to(browser, "#email")
    _type(browser, email)
    _tab_to(browser, "#password")
    _type(browser, PASSWORD)
    _tab_to(browser, "#sign-in")
    _type(browser, Keys.ENTER)
    _waiting(browser).until(lambda b: b.current_url.endswith("/ui/tasks"), "the task list")

    _tab_to(browser, 'nav a[href="/ui/tasks/new"]')
    # The focused element is plainly marked (an outline), not only by the browser's default.
    outline = browser.execute_script(
        "return getComputedStyle(document.activeElement).outlineStyle;"
    )
    assert outline == "solid"
    _type(browser, Keys.ENTER)
    _waiting(browser).until(lambda b: "/ui/tasks/new" in b.current_url, "the submit page")
    _tab_to(browser, "#choose-type")
    _type(browser, "countdown")  # a closed list picks the option typed
    _tab_to(browser, "#choose")
    _type(browser, Keys.ENTER)
    _waiting(browser).until(lambda b: b.find_elements(By.ID, "input-seconds"), "the form")
    _tab_to(browser, "#name")
    _type(browser, "typed countdown")  # Tab into a field selects its text: typing replaces it
    _tab_to(browser, "#input-seconds")
    _type(browser, "600")
    _tab_to(browser, "#submit")
    _type(browser, Keys.ENTER)
    _waiting(browser).until(lambda b: b.find_elements(By.ID, "task-name"), "the task's page")
    assert browser.find_element(By.ID, "task-name").text == "typed countdown"
    _tab_to(browser, "#cancel")
    _type(browser, Keys.ENTER)
    _wait_for_text(browser, "task-status", "cancelled")

    # A workflow's node is reached and opened from the keyboard too.
    tasks = [{"key": "only", "name": "only", "task_type": "noop"}]
    workflow = _rest(
        console_stack, _token(console_stack, email), "/workflows", {"name": "one", "tasks": tasks}
    )
    browser.get(f"{base}/ui/workflows/{workflow['id']}")
    _tab_to(browser, 'a.node[data-key="only"]')
    _type(browser, Keys.ENTER)
    _waiting(browser).until(
        lambda b: b.current_url.endswith(f"/ui/tasks/{workflow['tasks'][0]['id']}"),
        "the node's task page",
    )
    _tab_to(browser, "#sign-out")
    _type(browser, Keys.ENTER)
    _waiting(browser).until(lambda b: b.current_url.endswith("/ui/login"), "signed out")


def _click_link(browser: WebDriver, text: str) -> None:
    browser.find_element(By.LINK_TEXT, text).click()


def _type(browser: WebDriver, *keys: str) -> None:
    ActionChains(browser).send_keys(*keys).perform()


def _tab_to(browser: WebDriver, selector: str, *, most: int = 60) -> None:
    """Press Tab until the element `selector` names has the focus: it must be reachable."""
    for _ in range(most):
        if browser.execute_script(
            "return document.activeElement && document.activeElement.matches(arguments[0]);",
            selector,
        ):
            return
        _type(browser, Keys.TAB)
    raise AssertionError(f"{selector} was not reached with {most} presses of Tab")


def test_the_api_documentation_renders_from_the_apis_own_files(
    console_stack: Stack, browser: WebDriver, tmp_path: Path
) -> None:
    base = console_stack.api_url
    browser.get(f"{base}/docs")
    _waiting(browser).until(
        lambda b: "taskhub" in b.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text,
        "Swagger UI to show the API's title",
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")  # the routes, by tag
    browser.save_screenshot(str(tmp_path / "api-docs.png"))
    browser.get(f"{base}/redoc")
    _waiting(browser).until(
        lambda b: "taskhub" in b.find_element(By.TAG_NAME, "h1").text,
        "ReDoc to show the API's title",
    )
    # Scripts, styles and the OpenAPI document all come from the API. (ReDoc's "powered by"
    # logo is an image from its makers' site that hides itself when it cannot load.)
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((e) => e.initiatorType !== 'img').map((e) => e.name);"
    )
    assert [url for url in loaded if not url.startswith(base)] == []
