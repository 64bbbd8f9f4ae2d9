"""The main job's HTML report and text summary, read as rendered HTML (no browser)."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from pathlib import Path

import pytest

import forensics
from forensics.cli.main import main
from forensics.report import environment, html, sections, visible
from forensics.report.cells import DATA_CAP, HTML_ROWS

from ..conftest import FIXTURES
from .browser import browser
from .page import body_rows, parse, table

__all__ = ["browser"]   # the fixture, imported for pytest

DEMO = str(FIXTURES / "demo")
ETC = ["--passwd", str(FIXTURES / "demo_etc" / "passwd"),
       "--group", str(FIXTURES / "demo_etc" / "group")]
SECTION_IDS = ["run", "coverage", "people", "commands", "files", "inferred", "failures",
               "network", "timeline", "records"]
TABLES = ["sources", "gaps", "errors", "people", "sessions", "logins", "commands", "files",
          "inferred", "failures", "network", "records-index"]


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("demo") / "report.html"
    assert main([DEMO, *ETC, "-o", str(out), "-q"]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo(demo_page):
    return parse(demo_page)


def test_quick_start_writes_the_report_in_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([DEMO, *ETC]) == 0
    out = capsys.readouterr().out
    page = tmp_path / "knox-report.html"
    assert page.is_file()
    assert "356 records kept" in out and "damage: 1 span(s), 37 bytes" in out
    assert f"report: {page}" in out
    assert len(out.splitlines()) <= 5


def test_sections_in_order_with_the_table_of_contents(demo):
    found = [s.attrs["id"] for s in demo.find_all("section") if "data-section" in s.attrs]
    assert found == SECTION_IDS
    toc = [a.attrs["href"] for a in demo.find("nav").find_all("a")]
    assert toc == [f"#{s}" for s in SECTION_IDS]
    for s in demo.find_all("section"):
        if "data-section" in s.attrs:
            assert s.find("h2") is not None


def test_every_table_has_its_tools_and_the_rows_it_says(demo):
    for name in TABLES:
        box = table(demo, name)
        total, shown = int(box.attrs["data-total"]), int(box.attrs["data-shown"])
        assert shown == min(total, HTML_ROWS)
        if not total:
            continue
        assert len(body_rows(box)) == shown
        assert box.find("input", class_="kr-filter").attrs["type"] == "search"
        assert box.find("button", class_="kr-csv") is not None
        assert box.find("span", class_="kr-status").text() == f"showing {shown} of {total}"
        for th in box.find("thead").find_all("th"):
            assert th.attrs["aria-sort"] == "none" and th.find("button", class_="kr-sort")


def test_demo_counts(demo):
    counts = {n: int(table(demo, n).attrs["data-total"]) for n in TABLES}
    assert counts["commands"] == 63
    assert counts["inferred"] == 2
    assert counts["errors"] == 1
    assert counts["logins"] == 7
    assert counts["failures"] == 2


def test_helper_writes_are_alices_inferred_not_nobodys(demo):
    """DesktopServicesHelper copies to the USB stick for alice: attribution, not the raw auid."""
    rows = [r for r in body_rows(table(demo, "files")) if r[2] == "/Volumes/USB/report.pdf"]
    assert rows, "the copy to /Volumes/USB/report.pdf is missing"
    time_, action, path, who, how, elevated, program, pid, result, record = rows[0]
    assert (action, who, how, elevated, program) == (
        "create", "alice (501)", "inferred high", "elevated", "DesktopServicesHelper")
    inferred = body_rows(table(demo, "inferred"))
    assert len(inferred) == 2
    for row in inferred:
        assert row[1] == "xpcproxy → DesktopServicesHelper"
        assert row[2] == "alice (501)" and row[3] == "inferred high"
        assert row[4].startswith("3: ") and "ssauthorize" in row[7]


def test_inferred_rows_never_mix_with_direct(demo):
    box = table(demo, "inferred")
    assert all(r[3].startswith("inferred ") for r in body_rows(box))


def test_argv_keeps_argument_boundaries(demo):
    box = table(demo, "commands")
    tar = next(ol for ol in box.find_all("ol", class_="kr-argv")
               if ol.find("li").text() == "tar")
    assert [li.text() for li in tar.find_all("li")] == [
        "tar", "-czf", "/Volumes/Backup/home.tgz", "/Users/alice/Documents"]


def test_process_trees_one_node_for_xpcproxy_and_reused_pids(demo):
    summaries = [d.find("summary").text() for d in demo.find_all("details", class_="kr-tree")]
    assert any("xpcproxy → DesktopServicesHelper" in s for s in summaries)
    pid_3001 = [s for s in summaries if s.startswith("3001 ")]
    assert len(pid_3001) == 2 and len({s.split("; ")[-1] for s in pid_3001}) == 2


def test_record_links_open_records_in_the_page(demo):
    ids = {d.attrs["id"] for d in demo.find_all("details", class_="kr-record")}
    links = demo.find_all("a", class_="kr-ref")
    assert links and ids
    for a in links:
        assert a.attrs["href"].startswith("#rec-") and a.attrs["href"][1:] in ids
    record = demo.find("details", class_="kr-record")
    assert record.find("pre").text().startswith("header")


def test_csp_hashes_the_one_script_and_nothing_leaves_the_page(demo, demo_page):
    csp = demo.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in csp and "img-src data:" in csp
    scripts = [s for s in demo.find_all("script") if s.attrs.get("type") != "application/json"]
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].text().encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    for node in demo.iter():
        for attr in ("src", "href", "action", "xlink:href"):
            value = node.attrs.get(attr)
            if value is not None:
                assert not re.match(r"\s*(https?:|//|javascript:)", value, re.I), value
    assert 'href="http' not in demo_page and 'src="http' not in demo_page
    assert demo.find("meta", name="generator").attrs["content"].startswith("knox-report ")


def test_timeline_is_inline_svg_without_external_references(demo, demo_page):
    figures = demo.find("section", id="timeline").find_all("svg")
    assert len(figures) == 2
    assert "<!DOCTYPE" not in demo_page[demo_page.index("<body"):]
    for svg in figures:
        for node in svg.iter():
            for k, v in node.attrs.items():
                if k.endswith("href"):
                    assert v.startswith("#")


def test_same_input_same_charts(tmp_path):
    audit = forensics.load(DEMO)
    one = sections.build(audit).sections["timeline"].charts
    two = sections.build(audit).sections["timeline"].charts
    assert one == two and len(one) == 2
    draw = environment.environment().get_template("_chart.html.j2").module.chart_svg
    assert [str(draw(c)) for c in one] == [str(draw(c)) for c in two]
    again = forensics.load(DEMO)
    assert html.render_section(audit, "timeline") == html.render_section(again, "timeline")


# ---- the command -------------------------------------------------------------------------------

def test_refuses_to_overwrite_what_is_not_a_report(tmp_path, capsys):
    target = tmp_path / "notes.html"
    target.write_text("<p>my notes</p>")
    assert main([DEMO, "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and "not a knox-report report" in err
    assert target.read_text() == "<p>my notes</p>"
    assert main([DEMO, "-o", str(target), "--force", "-q"]) == 0
    assert "knox-report" in target.read_text()[:4096]
    assert main([DEMO, "-o", str(target), "-q"]) == 0            # ours now: overwritten


def test_quiet_prints_nothing(tmp_path, capsys):
    assert main([DEMO, "-o", str(tmp_path / "r.html"), "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_text_prints_the_summary_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([DEMO, *ETC, "--text"]) == 0
    out = capsys.readouterr().out
    assert not (tmp_path / "knox-report.html").exists()
    assert out.startswith("knox-report summary (record times in UTC")
    assert "Records selected: 356" in out and "Damaged spans skipped: 1 (37 bytes)" in out
    usb = [line for line in out.splitlines() if "/Volumes/USB/report.pdf" in line]
    assert usb and all("alice (501)" in line and "inferred" in line for line in usb)
    assert "(no audit user)" not in out
    assert "Commands run (first 40 of 63" in out


def test_object_filter_and_report_file_share_o(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main([DEMO, "-o", "file=^/Volumes/", "-o", str(out)]) == 0
    page = parse(out.read_text())
    paths = {r[2] for r in body_rows(table(page, "files"))}
    assert paths and all(p.startswith("/Volumes/") for p in paths)


@pytest.mark.parametrize("args, code", [
    (["/no/such/trail"], 2),
    ([DEMO, "--text", "-o", "x.html"], 2),
    ([DEMO, "-o", "a.html", "-o", "b.html"], 2),
])
def test_user_mistakes_are_one_line_and_an_exit_code(args, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(args) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()


def test_run_facts_name_inputs_with_size_and_sha256(demo):
    rows = body_rows(table(demo, "inputs"))
    folder, *files = rows
    assert folder[0] == DEMO and folder[1].startswith("folder (3 files read)")
    assert len(files) == 3
    for path, kind, size, digest in files:
        data = Path(path.strip()).read_bytes()
        assert int(size) == len(data) and digest == hashlib.sha256(data).hexdigest()


# ---- big tables: paging through JSON islands, and the cap ----------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory):
    from forensics.bsm import writer as w

    trail = w.Trail()
    n = DATA_CAP + 50
    for i in range(n):
        pid = 10_000 + i
        trail.record(w.AUE_EXECVE, [w.exec_args(["echo", f"run-{i}"]), w.path("/bin/echo"),
                                    w.subject(auid=501, euid=501, ruid=501, pid=pid,
                                              asid=100_001), w.return32()],
                     time=1_710_490_000 + i)
    folder = tmp_path_factory.mktemp("big")
    path = trail.write_to(folder / "20240315080000.20240316080000")
    out = folder / "report.html"
    assert main([str(path), "-o", str(out), "-q"]) == 0
    return parse(out.read_text(encoding="utf-8")), n


def test_large_tables_page_through_an_island_and_say_where_they_stop(big):
    doc, n = big
    box = table(doc, "commands")
    assert int(box.attrs["data-total"]) == n and int(box.attrs["data-shown"]) == HTML_ROWS
    assert len(body_rows(box)) == HTML_ROWS
    assert box.find("button", class_="kr-prev") and box.find("button", class_="kr-next")
    island = json.loads(box.find("script", class_="kr-data").text())
    assert island["columns"][7] == "argv" and len(island["rows"]) == DATA_CAP
    assert island["rows"][HTML_ROWS][7] == {"a": ["echo", f"run-{HTML_ROWS}"]}
    cap = box.find("p", class_="kr-cap").text()
    assert cap == f"showing {DATA_CAP} of {n}; the full data: knox-report export"
    assert table(doc, "people").find("p", class_="kr-cap") is None


def test_render_section_is_a_fragment_for_notebooks():
    audit = forensics.load(DEMO)
    frag = html.render_section(audit, "inferred")
    doc = parse(frag)
    assert [s.attrs["id"] for s in doc.find_all("section")] == ["inferred"]
    assert doc.find("script") is None and doc.find("style") is not None
    assert len(body_rows(table(doc, "inferred"))) == 2
    with pytest.raises(forensics.KnoxError):
        html.render_section(audit, "nope")


def test_dash_writes_the_page_to_stdout(capsysbinary):
    assert main([DEMO, "-o", "-"]) == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(b"<!DOCTYPE html>")
    assert b'<meta name="generator" content="knox-report' in out
    assert out.rstrip().endswith(b"</html>")


def test_selection_and_its_warning_are_in_the_run_facts(tmp_path):
    out = tmp_path / "r.html"
    assert main([DEMO, "-m", "AUE_EXECVE", "-c", "ex", "-o", str(out), "-q"]) == 0
    doc = parse(out.read_text())
    run = doc.find("section", id="run")
    facts = {d.find("dt").text(): d.find("dd").text() for d in run.find_all("div")
             if d.find("dt") is not None}
    assert facts["selection"] == "--event AUE_EXECVE --class ex"
    assert "narrow filter" in run.find("ul", class_="kr-notes").text()


# ---- what a reader sees (findings of the browser tests, notes/browser-findings.md) -------------

def _rows(doc, name: str) -> list[dict[str, str]]:
    box = table(doc, name)
    heads = [th.text() for th in box.find("thead").find_all("th")]
    return [dict(zip(heads, row)) for row in body_rows(box)]


def test_spawn_rows_show_the_childs_pid_and_the_spawner_as_parent(demo):
    """A posix_spawn record's subject is the spawner (launchd, pid 1); its row is the child's:
    the `child PID` argument, with the spawner first in the parent chain."""
    rows = _rows(demo, "commands")
    pids = {}
    for r in rows:
        pids.setdefault(r["program"], []).append(r["pid"])
    assert pids["/Library/PrivilegedHelperTools/com.example.updaterd"] == ["310"]
    assert pids["/usr/sbin/httpd"] == ["311"]
    assert pids["/usr/libexec/periodic-wrapper"] == ["99998", "99999", "8200", "8300"]
    assert pids["/usr/libexec/mdworker_shared"] == ["100"]       # the pid wrapped around
    assert pids["/usr/libexec/xpcproxy"] == ["905", "1905"]
    assert pids["/usr/bin/login"] == ["7001"]
    assert "1" not in {r["pid"] for r in rows}
    updater = next(r for r in rows if r["pid"] == "310")
    assert updater["parents"] == "com.apple.xpc.launchd (1, signing id)"
    assert updater["ended"] == "exit 0" and updater["person"] == "no person"
    login = next(r for r in rows if r["pid"] == "7001")
    assert login["parents"] == "com.apple.Terminal (700, signing id)"
    shell = next(r for r in rows if r["pid"] == "7002")
    assert shell["parents"] == "login (7001) ← com.apple.Terminal (700, signing id)"


def test_launchd_session_is_nobodys_with_inferred_work_listed(demo):
    """Session 100000 (launchd's, auid unset) is not alice's because one inferred helper ran
    in it: a session reads its direct owner; inferred work inside is listed as such."""
    sessions = {r["session"]: r for r in _rows(demo, "sessions")}
    assert sessions["100000"]["person"] == "no person"
    assert sessions["100000"]["inferred work"] == "alice (501): 16 records (inferred)"
    assert sessions["100007"]["person"] == "alice (501)"
    assert sessions["100007"]["inferred work"] == ""
    assert sessions["100021"]["person"] == "bob (502)"
    folds = {d.find("summary").text().split(" — ")[0]: d.find("summary").text()
             for d in demo.find_all("details", class_="kr-session")}
    assert folds["session 100000"].startswith("session 100000 — no person — 15 processes")
    assert folds["session 100000"].endswith("inferred work inside: alice (501): 2 processes")
    assert " — alice (501) — " in folds["session 100007"]
    assert "inferred" not in folds["session 100007"]


def test_local_terminals_read_local_not_as_addresses(demo):
    logins = _rows(demo, "logins")
    froms = {(r["how"], r["result"]): r["from"] for r in logins}
    assert froms[("login", "ok")] == "local (tty port 0x10000004)"
    assert froms[("su", "ok")] == froms[("su", "FAILED")] == "local"
    assert froms[("ssh", "ok")] in ("203.0.113.9:52144", "[2001:db8::7]:50523")
    assert "[2001:db8::7]:50522" in {r["from"] for r in logins}
    opened = {r["session"]: r["opened by"] for r in _rows(demo, "sessions")}
    assert opened["100007"] == "login, local (tty port 0x10000004)"
    assert opened["100012"] == "ssh from 203.0.113.9:52144"
    for name in ("logins", "sessions"):
        assert "0.0.0.0" not in table(demo, name).text()


def test_unknown_images_read_the_signing_id(demo):
    """Finder (pid 412) has no exec in the trail: its rows name it by its identity token."""
    finder = [r for r in _rows(demo, "files") if r["pid"] == "412"]
    assert finder and {r["program"] for r in finder} == {"com.apple.finder (signing id)"}
    assert all(r["program"] != "?" for r in _rows(demo, "files"))
    nodes = [d.find("summary").text() for d in demo.find_all("details", class_="kr-tree")]
    assert any(s.startswith("412 com.apple.authd (signing id) ") for s in nodes)
    assert any(s.startswith("1 com.apple.xpc.launchd (signing id) ") for s in nodes)


def test_paths_break_after_slashes_on_escaped_text(demo_page):
    """Program and path cells carry a <wbr> after each / and . (added to the escaped text)."""
    assert ("/<wbr>Library/<wbr>PrivilegedHelperTools/<wbr>com.<wbr>example.<wbr>updaterd"
            in demo_page)
    doc = parse(demo_page)
    programs = [r["program"] for r in _rows(doc, "commands")]
    assert "/Library/PrivilegedHelperTools/com.example.updaterd" in programs   # text unchanged
    assert visible.path('/a b/<x y="1">&.c') == (
        '/<wbr>a b/<wbr>&lt;x y=&#34;1&#34;&gt;&amp;.<wbr>c')
    assert visible.path("no\x1b/é") == 'no<span class="kr-ctl">\\x1b</span>/<wbr>é'
    with pytest.raises(ValueError):
        visible.html("a&b", breaks=";")          # would split an entity


def test_tree_nodes_are_short_and_large_trees_fold(demo):
    """Node labels: pid, program, argv, person, time, end; the proc_id in the title, shown only
    where the pid is reused in the session. Small trees open whole, large ones one level."""
    for d in demo.find_all("details", class_="kr-tree"):
        summary = d.find("summary")
        text, proc_id = summary.text(), summary.attrs["title"]
        assert proc_id.startswith(text.split()[0] + "@")
        assert (proc_id in text) == ("pid reused: " in text), text
    reused = [d.find("summary").text() for d in demo.find_all("details", class_="kr-tree")
              if d.find("summary").text().startswith("3001 ")]
    assert len(reused) == 2 and all("pid reused: 3001@" in s for s in reused)
    sessions = demo.find_all("details", class_="kr-session")
    big = next(s for s in sessions if "session 100007 " in s.find("summary").text())
    small = next(s for s in sessions if "session 100012 " in s.find("summary").text())
    assert "open" in big.attrs and "open" in small.attrs
    roots = big.find("div", class_="kr-forest").children
    roots = [n for n in roots if not isinstance(n, str)]
    assert roots and all("open" in r.attrs for r in roots if "kr-leaf" not in r.attrs["class"])
    deeper = [d for r in roots for d in r.find_all("details", class_="kr-tree") if d is not r]
    assert deeper and not any("open" in d.attrs for d in deeper)
    inner = [d for d in small.find_all("details", class_="kr-tree")
             if "kr-leaf" not in d.attrs["class"]]
    assert inner and all("open" in d.attrs for d in inner)
    assert all("open" not in d.attrs for d in demo.find_all("details", class_="kr-leaf"))


def test_sticky_bar_leaves_room_above_jump_targets(demo):
    style = demo.find("style").text()
    rule = re.search(r"([^{}]*)\{scroll-margin-top:([0-9.]+)rem\}", style)
    assert rule and float(rule.group(2)) >= 3
    assert {"section[id]", ".kr-record"} <= {s.strip() for s in rule.group(1).split(",")}
    assert re.search(r"\.kr-scroll\{overflow-x:auto", style)


# ---- in a browser: sorting, CSV and filter text, layout -----------------------------------------

@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-browser") / "report.html"
    assert main([DEMO, *ETC, "-o", str(out), "-q"]) == 0
    return out


def _open(driver, path: Path, fragment: str = "") -> None:
    driver.get("about:blank")
    driver.get(path.resolve().as_uri() + fragment)
    driver.execute_script("return document.readyState")


def _column(driver, name: str, col: str) -> list[str]:
    return driver.execute_script(
        "const t = document.querySelector(`.kr-table[data-table='${arguments[0]}']`);"
        "const i = [...t.querySelectorAll('thead th')]"
        "  .findIndex(th => th.textContent === arguments[1]);"
        "return [...t.querySelectorAll('tbody tr')].map(tr => tr.cells[i].textContent);", name, col)


def _sort(driver, name: str, col: str) -> None:
    driver.execute_script(
        "const t = document.querySelector(`.kr-table[data-table='${arguments[0]}']`);"
        "[...t.querySelectorAll('thead th')].find(th => th.textContent === arguments[1])"
        ".querySelector('.kr-sort').click();", name, col)


def _chunks_cmp(a: list[str], b: list[str]) -> int:
    """The page's natural order: chunk by chunk, digit runs by value."""
    for x, y in zip(a, b):
        if x == y:
            continue
        if x[0].isdigit() and y[0].isdigit() and int(x) != int(y):
            return -1 if int(x) < int(y) else 1
        if x[0].isdigit() and y[0].isdigit():
            return len(x) - len(y)
        return -1 if x < y else 1
    return len(a) - len(b)


_natural = functools.cmp_to_key(
    lambda a, b: _chunks_cmp(*(re.findall(r"\d+|\D+", t.lower()) for t in (a, b))))


def test_text_columns_sort_naturally(browser, demo_file):
    """`file:offset` and `name (pid)` columns sort with digit runs as numbers."""
    _open(browser, demo_file)
    _sort(browser, "files", "record")
    records = _column(browser, "files", "record")
    assert records == sorted(records, key=_natural)
    split = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in records]
    assert split == sorted(split), "offsets of one file in numeric order"
    assert records.index("20240315080000.20240315100000:395") < records.index(
        "20240315080000.20240315100000:1580")
    _sort(browser, "commands", "parents")
    parents = _column(browser, "commands", "parents")
    zsh = [p for p in parents if p.startswith("com.apple.zsh (")]
    assert zsh == sorted(zsh, key=_natural) and zsh[0].startswith("com.apple.zsh (2100")
    _sort(browser, "commands", "parents")
    down = _column(browser, "commands", "parents")
    assert down == sorted(parents, key=_natural, reverse=True)


def test_csv_and_filter_keep_argument_boundaries(browser, demo_file):
    import csv
    import io

    _open(browser, demo_file)
    got = list(csv.reader(io.StringIO(browser.execute_script("return window.krCsv('commands')"))))
    argv = got[0].index("argv")
    cells = [r[argv] for r in got[1:]]
    assert "xpcproxy com.apple.DesktopServicesHelper" in cells
    assert "tar -czf /Volumes/Backup/home.tgz /Users/alice/Documents" in cells
    assert "ids" in got[0] and "euid 501 ruid 501" in [r[got[0].index("ids")] for r in got[1:]]
    box = browser.find_element("css selector", ".kr-table[data-table='commands'] .kr-filter")
    box.send_keys("xpcproxy com.apple")
    shown = browser.execute_script(
        "return [...document.querySelectorAll(\".kr-table[data-table='commands'] tbody tr\")]"
        ".map(tr => tr.cells[5].textContent)")
    assert shown == ["905", "1905"]


def test_wide_tables_fit_a_1400_pixel_window(browser, demo_file):
    browser.set_window_size(1400, 1000)
    _open(browser, demo_file, "#commands")
    wide = browser.execute_script(
        "return [...document.querySelectorAll('.kr-table .kr-scroll')]"
        "  .map(s => [s.closest('.kr-table').dataset.table, s.scrollWidth - s.clientWidth])"
        "  .filter(x => x[1] > 1)")
    assert wide == []
    bar = browser.execute_script(
        "return document.querySelector('.kr-top').getBoundingClientRect().bottom")
    heading = browser.execute_script(
        "return document.querySelector('#commands h2').getBoundingClientRect().top")
    assert heading >= bar, (heading, bar)

