"""Helpers for the browser tests: a headless Chromium driven by Selenium, the reports it opens,
and small readers of what the page did (console messages, network requests, dialogs).

The browser is Debian's ``chromium`` with ``chromium-driver`` (``.ci/run`` installs both); the
tests skip, with one line saying why, where either or Selenium is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from forensics.testing.story import ALICE, Story, person

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "reports" / "screenshots"

SECTIONS = ["run", "coverage", "people", "commands", "files", "inferred", "failures", "network",
            "timeline", "records"]
TABLES = ["sources", "gaps", "errors", "people", "sessions", "logins", "commands", "files",
          "inferred", "failures", "network", "records-index"]

# Injected before any page script runs (DevTools, so the page's CSP does not apply): dialogs are
# recorded instead of shown, and so are the page's Content-Security-Policy violations.
_WATCH = """
window.__krDialogs = [];
window.__krViolations = [];
for (const name of ['alert', 'confirm', 'prompt', 'print']) {
  window[name] = function (message) { window.__krDialogs.push(name + ': ' + String(message)); };
}
document.addEventListener('securitypolicyviolation', function (e) {
  window.__krViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""


def _missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return ("no /usr/bin/chromium or /usr/bin/chromedriver "
                "(apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def start_browser(downloads: Path):
    """A headless Chromium with its own empty profile, logging console and network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="kr-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1400,1000",
                f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH})
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver._kr_profile = profile
    driver.kr_downloads = downloads
    driver.get("about:blank")
    drain_logs(driver)
    return driver


def stop_browser(driver) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver._kr_profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One browser for the whole module (starting one costs about a second)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    driver = start_browser(tmp_path_factory.mktemp("downloads"))
    yield driver
    stop_browser(driver)


# ---- reports ----------------------------------------------------------------------------------

def report_command(inputs, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "forensics.cli", *map(str, inputs), "-o", str(out), *extra]


def make_reports(jobs: dict[str, list[str]], cwd: Path) -> dict[str, str]:
    """Run the report commands two at a time (the machine has two cores); returns the
    failures: name -> the command's output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    pending = list(jobs.items())
    failed = {}
    while pending:
        batch, pending = pending[:2], pending[2:]
        procs = [(name, subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         text=True)) for name, cmd in batch]
        for name, proc in procs:
            out, _ = proc.communicate(timeout=300)
            if proc.returncode != 0:
                failed[name] = f"report {name} failed ({proc.returncode}):\n{out[-3000:]}"
    return failed


def busy_trail(path: Path, commands: int = 260) -> Path:
    """alice's shell running ``commands`` commands, each opening a file: more rows than a
    report puts in its HTML, so its tables page through their data islands."""
    st = Story("2024-03-17T08:00:00", step=7)
    shell = person(9000, "/bin/zsh")
    tools = [("/bin/ls", "-la"), ("/usr/bin/grep", "-rn"), ("/bin/cat", "-v"),
             ("/usr/bin/wc", "-l"), ("/usr/bin/head", "-n5")]
    for n in range(commands):
        image, flag = tools[n % len(tools)]
        kid = st.fork(shell, 9001 + n)
        target = f"/Users/alice/work/file{n:04d}.txt"
        kid = st.execve(kid, image, [image.rsplit("/", 1)[1], flag, target])
        st.open(kid, target, "r", fd=3, owner=ALICE)
        st.exit(kid, 0)
        st.wait4(shell, 9001 + n)
        st.wait(1500)
    path.write_bytes(st.trail.getvalue())
    return path


# ---- what the page did ------------------------------------------------------------------------

def drain_logs(driver) -> None:
    driver.get_log("browser")
    driver.get_log("performance")


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def network_requests(driver, page_url: str) -> list[str]:
    """URLs asked for by the page (other than itself and data: URLs), and any request anywhere
    in the browser to a network scheme (the browser's own chrome:// pages aside)."""
    page = page_url.split("#", 1)[0]
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") != "Network.requestWillBeSent":
            continue
        url = msg["params"]["request"]["url"]
        document = msg["params"].get("documentURL", "").split("#", 1)[0]
        if url.split("#", 1)[0] == page or url.startswith("data:"):
            continue
        if document == page or re.match(r"(https?|wss?|ftp|file):", url):
            urls.append(url)
    return urls


def dialogs(driver) -> list[str]:
    """Dialogs the page opened: recorded ones and one still open."""
    from selenium.common.exceptions import NoAlertPresentException

    seen = list(driver.execute_script("return window.__krDialogs || []"))
    try:
        alert = driver.switch_to.alert
        seen.append("open dialog: " + alert.text)
        alert.dismiss()
    except NoAlertPresentException:
        pass
    return seen


def violations(driver) -> list[str]:
    return list(driver.execute_script("return window.__krViolations || []"))


def screenshot(driver, name: str, *, max_height: int = 8000) -> Path:
    """The whole page (up to ``max_height`` pixels) as reports/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(1400, max(800, min(int(height) + 20, max_height)))
    dest = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(dest))
    driver.set_window_size(1400, 1000)
    return dest


def section_screenshots(driver, prefix: str, sections=SECTIONS) -> list[Path]:
    """Each section as reports/screenshots/PREFIX-SECTION.png (a 1400x4000 window; the
    sticky page header moved out of the way)."""
    from selenium.webdriver.common.by import By
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1400, 4000)
    driver.execute_script("for (const n of document.querySelectorAll('.kr-top, #toc')) "
                          "n.style.position = 'static'")
    shots = []
    try:
        for section in sections:
            dest = SCREENSHOTS / f"{prefix}-{section}.png"
            driver.find_element(By.ID, section).screenshot(str(dest))
            shots.append(dest)
    finally:
        driver.execute_script("for (const n of document.querySelectorAll('.kr-top, #toc')) "
                              "n.style.position = ''")
        driver.set_window_size(1400, 1000)
    return shots
