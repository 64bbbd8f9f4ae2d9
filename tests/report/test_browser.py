"""The HTML report in a real browser: headless Chromium driven by Selenium.

Reports are written by the command line (``python -m forensics.cli PATH... -o FILE``) for the
demo collection, the scenario trails together, the hostile trail of
:mod:`forensics.testing.payloads` and a busy trail with more rows than a table keeps in its
HTML. Each loads with no console errors, no network requests and no policy violations; its
sections and row counts follow the DOM contract (notes/report-contract.md); sorting, filtering,
paging, CSV and the folds work; the hostile strings show as text and do nothing. Screenshots
go to reports/screenshots/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import time
from pathlib import Path

import pytest

from forensics.testing import payloads

from .browser import (ROOT, SECTIONS, TABLES, browser, busy_trail, console_errors, dialogs,
                      drain_logs, make_reports, network_requests, report_command, screenshot,
                      section_screenshots, violations)

__all__ = ["browser"]   # the fixture, imported for pytest

FIXTURES = ROOT / "tests" / "fixtures"
DEMO_ETC = FIXTURES / "demo_etc"
PAGE_ROWS = 200
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    hostile = payloads.write(out / "hostile.trail")
    passwd, group = payloads.write_etc(out / "hostile_etc")
    busy = busy_trail(out / "busy.trail")
    scenarios = sorted((FIXTURES / "scenarios").glob("*.trail"))
    jobs = {
        "demo": report_command([FIXTURES / "demo"], out / "demo.html",
                               "--passwd", str(DEMO_ETC / "passwd"),
                               "--group", str(DEMO_ETC / "group")),
        "scenarios": report_command(scenarios, out / "scenarios.html",
                                    "--passwd", str(DEMO_ETC / "passwd"),
                                    "--group", str(DEMO_ETC / "group")),
        "hostile": report_command([hostile], out / "hostile.html",
                                  "--passwd", str(passwd), "--group", str(group)),
        "busy": report_command([busy], out / "busy.html"),
    }
    failed = make_reports(jobs, out)
    return Reports({name: out / f"{name}.html" for name in jobs}, failed)


class Reports(dict):
    """name -> report path; asking for a report whose command failed fails that test only."""

    def __init__(self, paths: dict[str, Path], failed: dict[str, str]):
        super().__init__(paths)
        self.failed = failed

    def __getitem__(self, name: str) -> Path:
        if name in self.failed:
            pytest.fail(self.failed[name], pytrace=False)
        return super().__getitem__(name)


# ---- page helpers -------------------------------------------------------------------------------

def load(driver, path: Path, fragment: str = "") -> str:
    """Open a report fresh (logs drained first); returns the page's URL without fragment."""
    drain_logs(driver)
    url = path.resolve().as_uri()
    driver.get("about:blank")
    driver.get(url + fragment)
    wait(driver, lambda: driver.execute_script("return document.readyState") == "complete")
    return url


def wait(driver, condition, timeout: float = TIMEOUT, what: str = "the page to respond"):
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def click(driver, element) -> None:
    from selenium.common.exceptions import (ElementClickInterceptedException,
                                            ElementNotInteractableException)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except (ElementClickInterceptedException, ElementNotInteractableException):
        driver.execute_script("arguments[0].click()", element)


def table(driver, name: str):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, f'.kr-table[data-table="{name}"]')


_TABLES_JS = """
const shown = r => !r.hidden && getComputedStyle(r).display !== 'none';
return [...document.querySelectorAll('.kr-table')].map(t => {
  const island = t.querySelector('script.kr-data');
  let data = null;
  if (island) { const d = JSON.parse(island.textContent);
                data = {columns: d.columns.length, rows: d.rows.length}; }
  const rows = [...t.querySelectorAll('tbody tr')];
  return {name: t.dataset.table, total: t.dataset.total, shown: t.dataset.shown,
          rows: rows.length, visible: rows.filter(shown).length,
          cols: t.querySelectorAll('thead th').length,
          sorts: t.querySelectorAll('thead th > .kr-sort, thead th .kr-sort').length,
          status: (t.querySelector('.kr-status') || {}).textContent,
          filter: !!t.querySelector('input[type=search].kr-filter'),
          csv: !!t.querySelector('.kr-csv'), next: !!t.querySelector('.kr-next'),
          cap: !!t.querySelector('.kr-cap'), data: data};
});
"""

_ROWS_JS = """
const t = arguments[0], col = arguments[1];
return [...t.querySelectorAll('tbody tr')]
  .filter(r => !r.hidden && getComputedStyle(r).display !== 'none')
  .map(r => col === null ? r.textContent : (r.children[col] ? r.children[col].textContent : ''));
"""


def tables(driver) -> dict[str, dict]:
    return {t["name"]: t for t in driver.execute_script(_TABLES_JS)}


def rows(driver, element, col: int | None = None) -> list[str]:
    return driver.execute_script(_ROWS_JS, element, col)


def status(element) -> str:
    from selenium.webdriver.common.by import By
    return element.find_element(By.CSS_SELECTOR, ".kr-status").get_attribute("textContent")


def numbers(text: str) -> list[int]:
    """The integers in a status line, thousands separators removed."""
    return [int(re.sub(r"[,.\u202f\u00a0' ]", "", n))
            for n in re.findall(r"\d[\d,.\u202f\u00a0' ]*\d|\d", text)]


def assert_clean(driver, url: str) -> None:
    """Nothing went wrong on the page: no console errors, requests, dialogs, violations."""
    assert console_errors(driver) == []
    assert network_requests(driver, url) == []
    assert dialogs(driver) == []
    assert violations(driver) == []


# ---- every report -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["demo", "scenarios", "hostile", "busy"])
def test_report_loads_clean_with_its_sections(browser, reports, name):
    from selenium.webdriver.common.by import By
    url = load(browser, reports[name])
    assert_clean(browser, url)
    for section in SECTIONS:
        found = browser.find_elements(By.CSS_SELECTOR,
                                      f'section#{section}[data-section="{section}"]')
        assert len(found) == 1, f"section #{section}"
        assert found[0].find_elements(By.TAG_NAME, "h2"), f"section #{section} has no heading"
    toc = {a.get_attribute("href").rsplit("#", 1)[-1]
           for a in browser.find_elements(By.CSS_SELECTOR, "nav#toc a[href^='#']")}
    assert set(SECTIONS) <= toc
    head = {m.get_attribute("http-equiv") or m.get_attribute("name"): m.get_attribute("content")
            for m in browser.find_elements(By.CSS_SELECTOR, "head meta")}
    assert "default-src 'none'" in head.get("Content-Security-Policy", "")
    assert (head.get("generator") or "").startswith("knox-report")
    screenshot(browser, name, max_height={"demo": 4000}.get(name, 3000))
    assert_clean(browser, url)


@pytest.mark.parametrize("name", ["demo", "scenarios", "hostile", "busy"])
def test_table_row_counts_match_the_data(browser, reports, name):
    load(browser, reports[name])
    found = tables(browser)
    if name == "demo":
        assert set(TABLES) <= set(found), f"missing tables: {set(TABLES) - set(found)}"
    for tname, t in found.items():
        total, shown = int(t["total"]), int(t["shown"])
        where = f"{name}: table {tname}"
        if total == 0:
            assert shown == 0 and t["rows"] == 0, f"{where}: rows in an empty table"
            continue
        assert t["filter"] and t["csv"], f"{where}: filter or CSV button missing"
        assert t["sorts"] == t["cols"], f"{where}: a header without its sort button"
        assert t["rows"] == t["visible"] == shown, f"{where}: {t['rows']} rows, data-shown {shown}"
        assert shown <= total and shown >= min(total, PAGE_ROWS), f"{where}: {shown} of {total}"
        assert numbers(t["status"])[-2:] == [shown, total], f"{where}: status {t['status']!r}"
        if shown < total:
            assert t["data"] or t["cap"], f"{where}: rows cut silently"
        if t["data"]:
            assert t["next"], f"{where}: a data island without paging buttons"
            assert t["data"]["columns"] == t["cols"], f"{where}: island columns"
            assert t["data"]["rows"] == total or (t["cap"] and t["data"]["rows"] < total), \
                f"{where}: island holds {t['data']['rows']} of {total} rows"


def test_demo_says_what_it_found(browser, reports):
    """Rows say their facts in words: the person with uid, how sure, elevated."""
    from selenium.webdriver.common.by import By
    load(browser, reports["demo"])
    commands = table(browser, "commands")
    text = " ".join(rows(browser, commands))
    assert "alice (501)" in text
    assert re.search(r"direct\s+high", text)
    assert "elevated" in text
    assert commands.find_elements(By.CSS_SELECTOR, "ol.kr-argv > li")
    trees = " ".join(s.get_attribute("textContent")
                     for s in browser.find_elements(By.CSS_SELECTOR, "details.kr-tree > summary"))
    assert "xpcproxy → DesktopServicesHelper" in trees
    heads = [s.get_attribute("textContent").split() for s in
             browser.find_elements(By.CSS_SELECTOR, "details.kr-tree > summary")]
    assert sum(1 for h in heads if h and h[0] == "3001") >= 2, "pid reuse: two lives of 3001"
    files = " ".join(rows(browser, table(browser, "files")))
    assert "/Volumes/USB/report.pdf" in files
    inferred = " ".join(rows(browser, table(browser, "inferred")))
    assert re.search(r"inferred\s+(high|medium|low)", inferred)
    assert browser.find_elements(By.CSS_SELECTOR, "section#timeline svg, section#timeline img")
    section_screenshots(browser, "demo")


def _shot_dir() -> Path:
    from .browser import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# ---- interaction --------------------------------------------------------------------------------

def test_sorting_flips_order_and_aria_sort(browser, reports):
    from selenium.webdriver.common.by import By
    url = load(browser, reports["demo"])
    t = table(browser, "commands")
    heads = t.find_elements(By.CSS_SELECTOR, "thead th")
    labels = [h.get_attribute("textContent").strip().lower() for h in heads]
    col = next(i for i, label in enumerate(labels) if label == "pid")
    before = rows(browser, t, col)
    assert len(set(before)) > 2, "too few distinct pids to see a sort"
    button = heads[col].find_element(By.CSS_SELECTOR, ".kr-sort")
    click(browser, button)
    wait(browser, lambda: heads[col].get_attribute("aria-sort") == "ascending", what="ascending")
    up = rows(browser, t, col)
    assert [int(v) for v in up] == sorted(int(v) for v in before), "numeric ascending by pid"
    click(browser, button)
    wait(browser, lambda: heads[col].get_attribute("aria-sort") == "descending", what="descending")
    down = rows(browser, t, col)
    assert down == up[::-1]
    others = [h.get_attribute("aria-sort") for i, h in enumerate(heads) if i != col]
    assert all(a in (None, "none") for a in others), others
    # a text column sorts too (the first one that is not the pid)
    other = next(i for i, label in enumerate(labels) if label not in ("pid", ""))
    click(browser, heads[other].find_element(By.CSS_SELECTOR, ".kr-sort"))
    wait(browser, lambda: heads[other].get_attribute("aria-sort") == "ascending")
    assert heads[col].get_attribute("aria-sort") in (None, "none")
    assert len(rows(browser, t)) == len(before)
    assert_clean(browser, url)


def test_filter_hides_rows_and_updates_status(browser, reports):
    from selenium.webdriver.common.by import By
    url = load(browser, reports["demo"])
    t = table(browser, "commands")
    all_rows = rows(browser, t)
    box = t.find_element(By.CSS_SELECTOR, "input.kr-filter")
    before = status(t)
    box.send_keys("SUDO")                      # case-insensitive
    wait(browser, lambda: len(rows(browser, t)) < len(all_rows), what="rows to hide")
    kept = rows(browser, t)
    assert kept and all("sudo" in r.lower() for r in kept)
    assert kept == [r for r in all_rows if "sudo" in r.lower()]
    now = wait(browser, lambda: status(t) != before and status(t), what="the status to update")
    assert numbers(now)[0] == len(kept), now
    box.clear()
    box.send_keys("x")                         # clear() fires no input event; type and erase
    from selenium.webdriver.common.keys import Keys
    box.send_keys(Keys.BACKSPACE)
    wait(browser, lambda: len(rows(browser, t)) == len(all_rows), what="rows to come back")
    assert_clean(browser, url)


def test_paging_through_a_data_island(browser, reports):
    from selenium.webdriver.common.by import By
    url = load(browser, reports["busy"])
    t = table(browser, "commands")
    total, shown = int(t.get_attribute("data-total")), int(t.get_attribute("data-shown"))
    assert total >= 260 > shown, (total, shown)
    first = rows(browser, t)
    before = status(t)
    click(browser, t.find_element(By.CSS_SELECTOR, ".kr-next"))
    wait(browser, lambda: rows(browser, t) != first, what="the next page")
    second = rows(browser, t)
    assert len(second) == min(shown, total - shown)
    assert not set(second) & set(first)
    assert status(t) != before and numbers(status(t))[-1] == total
    assert any("file0259" in r for r in second) or any("file0000" in r for r in second)
    click(browser, t.find_element(By.CSS_SELECTOR, ".kr-prev"))
    wait(browser, lambda: rows(browser, t) == first, what="the first page again")
    # a filter reaches the rows that live in the island only
    box = t.find_element(By.CSS_SELECTOR, "input.kr-filter")
    box.send_keys("file0250")
    wait(browser, lambda: len(rows(browser, t)) == 1, what="the one row from the island")
    assert "file0250" in rows(browser, t)[0]
    assert_clean(browser, url)


def test_csv_is_what_is_shown(browser, reports, tmp_path):
    from selenium.webdriver.common.by import By
    url = load(browser, reports["demo"])
    t = table(browser, "commands")
    heads = [h.get_attribute("textContent").strip()
             for h in t.find_elements(By.CSS_SELECTOR, "thead th")]
    text = browser.execute_script("return window.krCsv('commands')")
    got = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [h.strip() for h in got[0]] == heads
    assert len(got) - 1 == len(rows(browser, t))
    box = t.find_element(By.CSS_SELECTOR, "input.kr-filter")
    box.send_keys("sudo")
    wait(browser, lambda: len(rows(browser, t)) < len(got) - 1, what="the filter")
    shown = rows(browser, t)
    got = list(csv.reader(io.StringIO(
        browser.execute_script("return window.krCsv('commands')").lstrip("\ufeff"))))
    assert len(got) - 1 == len(shown) and all("sudo" in " ".join(r).lower() for r in got[1:])
    # the button downloads the same text as commands.csv
    downloads = browser.kr_downloads
    for old in downloads.glob("commands*.csv"):
        old.unlink()
    click(browser, t.find_element(By.CSS_SELECTOR, ".kr-csv"))
    saved = wait(browser, lambda: next(iter(downloads.glob("commands*.csv")), None),
                 what="commands.csv to download")
    wait(browser, lambda: saved.stat().st_size > 0, what="the download to finish")
    on_disk = list(csv.reader(io.StringIO(saved.read_text("utf-8-sig"))))
    assert on_disk == got
    assert_clean(browser, url)


def test_folds_and_record_links(browser, reports):
    from selenium.webdriver.common.by import By
    url = load(browser, reports["demo"])
    tree = browser.find_element(By.CSS_SELECTOR, "details.kr-tree")
    was_open = tree.get_attribute("open") is not None
    click(browser, tree.find_element(By.TAG_NAME, "summary"))
    wait(browser, lambda: (tree.get_attribute("open") is not None) != was_open, what="the fold")
    refs = browser.find_elements(By.CSS_SELECTOR, "a.kr-ref")
    assert refs, "no record links"
    targets = browser.execute_script(
        "return [...document.querySelectorAll('a.kr-ref')].filter(a => {"
        " const id = decodeURIComponent(a.getAttribute('href').slice(1));"
        " const el = document.getElementById(id);"
        " return !(el && el.matches('details.kr-record')); }).map(a => a.getAttribute('href'))")
    assert targets == [], f"record links with no record: {targets[:5]}"
    ref = refs[len(refs) // 2]
    key = ref.get_attribute("href").rsplit("#", 1)[1]
    record = browser.find_element(By.ID, key)
    assert record.get_attribute("open") is None
    click(browser, ref)
    wait(browser, lambda: record.get_attribute("open") is not None, what="the record to open")
    assert browser.execute_script("return location.hash") == f"#{key}"
    tokens = record.find_element(By.TAG_NAME, "pre").get_attribute("textContent")
    assert "header" in tokens and "trailer" in tokens, tokens[:300]
    record.screenshot(str(_shot_dir() / "demo-record.png"))
    # a link followed from outside the page opens its record too
    load(browser, reports["demo"], f"#{key}")
    record = browser.find_element(By.ID, key)
    wait(browser, lambda: record.get_attribute("open") is not None, what="the record via hash")
    assert_clean(browser, url)


def test_readable_with_javascript_off(browser, reports):
    from selenium.webdriver.common.by import By
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        load(browser, reports["demo"])
        for t in browser.find_elements(By.CSS_SELECTOR, ".kr-table"):
            shown = int(t.get_attribute("data-shown"))
            assert len(t.find_elements(By.CSS_SELECTOR, "tbody tr")) == shown
        assert "alice (501)" in browser.find_element(By.ID, "commands").text
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


# ---- hostile evidence ---------------------------------------------------------------------------

_DOM_JS = """
return {
  title: document.title,
  scripts: [...document.scripts].map(s => (s.type || 'classic') + (s.src ? ' src=' + s.src : '')),
  imgs: [...document.images].map(i => i.getAttribute('src') || ''),
  handlers: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
      .filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
  urls: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
      .filter(a => ['href', 'src', 'action', 'formaction', 'srcset', 'poster', 'background']
                   .includes(a.localName))
      .map(a => a.value).filter(u => !/^(#|data:)/.test(u))),
  iframes: document.querySelectorAll(
      'iframe, object, embed, form, base, meta[http-equiv=refresh]').length,
  text: document.body.innerText,
};
"""


def dom(driver) -> dict:
    return driver.execute_script(_DOM_JS)


def assert_inert(driver, url: str, title: str) -> None:
    d = dom(driver)
    assert dialogs(driver) == []
    assert d["title"] == title
    assert [s for s in d["scripts"] if s != "application/json"] == ["classic"], d["scripts"]
    assert all(src.startswith("data:") for src in d["imgs"]), d["imgs"][:5]
    assert d["handlers"] == [] and d["urls"] == [] and d["iframes"] == 0
    assert console_errors(driver) == [] and violations(driver) == []
    assert network_requests(driver, url) == []


def test_hostile_payloads_are_inert_text(browser, reports):
    from selenium.webdriver.common.by import By
    source = reports["hostile"].read_text("utf-8")
    title = html.unescape(re.search(r"<title>(.*?)</title>", source, re.S).group(1)).strip()
    url = load(browser, reports["hostile"])
    assert_inert(browser, url, title)
    text = dom(browser)["text"]
    for payload in payloads.TEXT_PAYLOADS:
        assert payload in text, f"{payload!r} is not shown as text"
    assert "\\x1b[2J" in text, "ESC is not shown visibly"
    assert "\x1b" not in text and "\x07" not in text, "raw control characters reached the page"
    assert "\u202e" not in text, "a raw right-to-left override reached the page"
    assert "\\xff" in text, "invalid UTF-8 is not shown as \\xff"
    assert not re.search("[\uef80-\uefff]", text), "invalid bytes shown as private-use chars"
    args = [li.get_attribute("textContent")
            for li in browser.find_elements(By.CSS_SELECTOR, "ol.kr-argv > li")]
    assert payloads.SCRIPT in args and payloads.IMG in args and payloads.BREAKOUT in args
    assert any(a.startswith("--data=AAAA") for a in args), "the very long argument is missing"
    section_screenshots(browser, "hostile", ["people", "commands", "files", "records"])
    assert_inert(browser, url, title)


def test_hostile_rows_from_the_island_stay_text(browser, reports):
    """Rows the page builds from its JSON data (paging, filtering, sorting) carry the payloads
    as text."""
    from selenium.webdriver.common.by import By
    source = reports["hostile"].read_text("utf-8")
    title = html.unescape(re.search(r"<title>(.*?)</title>", source, re.S).group(1)).strip()
    url = load(browser, reports["hostile"])
    paged = [name for name, t in tables(browser).items() if t["data"]]
    assert "files" in paged, f"the hostile trail should page its files table: {paged}"
    for name in paged:
        t = table(browser, name)
        shown = int(t.get_attribute("data-shown"))
        island = browser.execute_script(
            "return JSON.parse(arguments[0].querySelector('script.kr-data').textContent)", t)
        later = json.dumps(island["rows"][shown:2 * shown], ensure_ascii=False)
        term = next((p for p in payloads.TEXT_PAYLOADS if p in later), None)
        first = rows(browser, t)
        click(browser, t.find_element(By.CSS_SELECTOR, ".kr-next"))
        wait(browser, lambda: rows(browser, t) != first, what=f"{name}: the next page")
        assert_inert(browser, url, title)
        if term is None:
            continue
        assert term in " ".join(rows(browser, t)), f"{name}: {term!r} not shown on page 2"
        box = t.find_element(By.CSS_SELECTOR, "input.kr-filter")
        box.send_keys(term)
        wait(browser, lambda: rows(browser, t) and all(term in r for r in rows(browser, t)),
             what=f"{name}: rows filtered by {term!r}")
        click(browser, t.find_elements(By.CSS_SELECTOR, ".kr-sort")[-1])
        assert_inert(browser, url, title)
        assert term in browser.execute_script("return window.krCsv(arguments[0])", name)
    section_screenshots(browser, "hostile-paged", ["files"])


@pytest.mark.parametrize("fragment", [
    "#%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", '#rec-%22%5D%3Cscript%3Ealert(1)%3C/script%3E',
    "#javascript:alert(1)", "#%E2%80%AE%1B[2J", "#rec-",
])
def test_hostile_fragment_is_harmless(browser, reports, fragment):
    """The page's hash handler meets whatever a link (or an attacker) puts after the #."""
    source = reports["hostile"].read_text("utf-8")
    title = html.unescape(re.search(r"<title>(.*?)</title>", source, re.S).group(1)).strip()
    url = load(browser, reports["hostile"], fragment)
    assert_inert(browser, url, title)
    browser.execute_script("location.hash = arguments[0]", "#%3Csvg%20onload%3Dalert(1)%3E")
    time.sleep(0.2)
    assert_inert(browser, url, title)
