"""A lab does a whole certification run from the page alone, in a real browser.

Debian's Chromium and its driver (``/usr/bin/chromium``, ``/usr/bin/chromedriver``; ``.ci/run``
installs ``chromium-driver``) under Selenium: sign in (a wrong token first), start a run of
every stage with the ``sdk`` driver, watch it finish, open a scenario's institution and one of
its visits, arm and clear a fault, download the signed report and verify it. Screenshots of the
main pages are written to ``<tmp>/screenshots`` and the folder is printed (``pytest -s`` shows
it), for a person to look at.

Chromium runs as root here, on a machine whose network is closed: ``--no-sandbox`` and the
switches that stop its background connections, a fresh profile, no driver download (Selenium
is given the driver's path, and ``SE_OFFLINE`` keeps Selenium Manager from looking online).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from nhsa.conformance._signature import verify_report
from nhsa.signing import Sm2PublicKey
from tests.lab.conftest import ADMIN_TOKEN, LabServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as until  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_SECONDS = 120
SWITCHES = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def _browser_or_skip() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        message = f"no {' or '.join(missing)} (.ci/run installs Debian's chromium-driver)"
        if os.environ.get("NHSA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message}; NHSA_REQUIRE_BROWSER=1")
        pytest.skip(message)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    _browser_or_skip()
    os.environ.setdefault("SE_OFFLINE", "true")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for switch in SWITCHES:
        options.add_argument(switch)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


class _Shots:
    def __init__(self, browser: webdriver.Chrome, folder: Path) -> None:
        self.browser, self.folder = browser, folder
        folder.mkdir()

    def take(self, name: str) -> None:
        self.browser.save_screenshot(str(self.folder / f"{name}.png"))


def _downloaded(folder: Path, suffix: str) -> Path:
    def found(_: object) -> Path | bool:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        return done[0] if done else False

    path: Path = WebDriverWait(None, WAIT_SECONDS, poll_frequency=0.1).until(found)  # type: ignore[arg-type]
    return path


@pytest.mark.slow
def test_a_whole_certification_run_from_the_page(
    browser: webdriver.Chrome, lab_server: LabServer, tmp_path: Path
) -> None:
    wait = WebDriverWait(browser, WAIT_SECONDS)
    shots = _Shots(browser, tmp_path / "screenshots")
    print(f"\nscreenshots of the console: {shots.folder}")

    browser.get(f"{lab_server.url}/console/")
    wait.until(until.presence_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "lab").send_keys("lab-km")
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "sign-in").click()
    assert "Wrong token" in wait.until(until.presence_of_element_located((By.ID, "error"))).text
    shots.take("01-sign-in-refused")
    browser.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
    browser.find_element(By.ID, "sign-in").click()
    wait.until(until.presence_of_element_located((By.ID, "start-form")))

    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=stages]"):
        if not box.is_selected():
            box.click()
    shots.take("02-start-a-run")
    browser.find_element(By.ID, "start-run").click()
    wait.until(until.presence_of_element_located((By.ID, "run-state")))
    shots.take("03-run-live")
    result = wait.until(until.presence_of_element_located((By.ID, "run-result")))
    assert result.get_attribute("data-result") == "pass"
    stages = {row.text.split(":")[0] for row in browser.find_elements(By.CSS_SELECTOR, "h3")}
    assert {"lab", "self-test", "city", "district", "acceptance"} <= stages
    shots.take("04-run-finished")

    browser.find_element(
        By.CSS_SELECTOR, 'details[data-scenario="lab/error-answers"] a.institution-link'
    ).click()
    wait.until(until.presence_of_element_located((By.ID, "transcript")))
    shots.take("05-institution")
    browser.find_element(By.CSS_SELECTOR, "a.visit-link").click()
    verdict = wait.until(until.presence_of_element_located((By.ID, "verdict")))
    assert "refused (infcode -1 (business-error fault))" in verdict.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "section.message")) >= 7
    shots.take("06-visit")

    browser.back()
    wait.until(until.presence_of_element_located((By.ID, "arm-form")))
    for option in browser.find_elements(By.CSS_SELECTOR, "#fault-kind option"):
        if option.text == "commit-then-drop":
            option.click()
    browser.find_element(By.ID, "fault-infno").send_keys("2207")
    browser.find_element(By.ID, "arm-fault").click()
    armed = wait.until(
        until.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-kind="commit-then-drop"]'))
    )
    assert "2207" in armed.text
    shots.take("07-fault-armed")
    browser.find_element(By.ID, "clear-all-faults").click()
    wait.until(until.presence_of_element_located((By.ID, "no-faults")))

    browser.get(f"{lab_server.url}/console/")
    browser.find_element(By.CSS_SELECTOR, "#past-runs a").click()
    wait.until(until.presence_of_element_located((By.ID, "downloads")))
    downloads = tmp_path / "downloads"
    browser.find_element(By.ID, "download-report-json").click()
    report = _downloaded(downloads, "-report.json")
    browser.find_element(By.ID, "download-report-json-sig").click()
    signature = _downloaded(downloads, "-report.json.sig")
    browser.find_element(By.ID, "download-key").click()
    key = _downloaded(downloads, "console.sm2.pub.pem")
    verified = verify_report(report, Sm2PublicKey.from_file(key), signature=signature)
    assert verified.key_id == lab_server.key.key_id
    assert orjson.loads(report.read_bytes())["result"] == "pass"
    assert sorted(p.name for p in shots.folder.iterdir()) == [
        "01-sign-in-refused.png", "02-start-a-run.png", "03-run-live.png",
        "04-run-finished.png", "05-institution.png", "06-visit.png", "07-fault-armed.png",
    ]  # fmt: skip
