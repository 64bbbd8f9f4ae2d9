"""Every string in a trail is attacker-controlled: the report shows it as text, inert."""

from __future__ import annotations

import json
import re

import pytest

from forensics.cli.main import main
from forensics.report import environment, visible
from forensics.testing import payloads

from .browser import browser
from .page import parse

__all__ = ["browser"]   # the fixture, imported for pytest

MARKUP_TAGS = {"img", "iframe", "object", "embed", "form", "a", "base", "link"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    trail = folder / "20240316090000.20240316100000"
    payloads.write(trail)
    payloads.write_etc(folder / "etc")
    out = folder / "report.html"
    assert main([str(trail), "--passwd", str(folder / "etc" / "passwd"),
                 "--group", str(folder / "etc" / "group"), "-o", str(out), "-q"]) == 0
    text = out.read_text(encoding="utf-8")
    return text, parse(text), folder


def test_only_our_script_runs(hostile):
    text, doc, _ = hostile
    scripts = doc.find_all("script")
    runnable = [s for s in scripts if s.attrs.get("type") != "application/json"]
    assert len(runnable) == 1 and "krCsv" in runnable[0].text()
    for node in doc.iter():
        assert not any(k.startswith("on") for k in node.attrs), node.attrs
        if node.tag == "a":
            assert node.attrs.get("href", "").startswith("#"), node.attrs
    assert not {n.tag for n in doc.iter()} & (MARKUP_TAGS - {"a"})


def test_payloads_show_as_text(hostile):
    text, doc, _ = hostile
    seen = doc.find("main").text()
    for payload in payloads.TEXT_PAYLOADS:
        assert payload in seen, payload
    assert "49" not in [c.text() for c in doc.find_all("td")]          # {{7*7}} not evaluated
    assert "m<img src=x onerror=alert(1)> (502)" in seen                # the hostile user name


def test_control_characters_and_invalid_utf8_are_visible(hostile):
    text, doc, _ = hostile
    for raw in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert raw not in text, repr(raw)
    escapes = {s.text() for s in doc.find_all("span", class_="kr-ctl")}
    assert {"\\x1b", "\\x07", "\\u202e"} <= escapes
    assert {"\\xff", "\\xfe"} <= escapes                                 # bytes that were not UTF-8


def test_json_islands_cannot_close_their_element(hostile):
    text, doc, _ = hostile
    for island in doc.find_all("script", type="application/json"):
        body = island.text()
        assert "<" not in body and ">" not in body and "&" not in body
        json.loads(body)


def test_long_arguments_are_cut_with_a_marker(hostile):
    text, doc, _ = hostile
    cuts = [s.text() for s in doc.find_all("span", class_="kr-cut")]
    assert any("more characters" in c for c in cuts)


def test_text_summary_is_inert_on_a_terminal(hostile, capsys):
    _, _, folder = hostile
    trail = folder / "20240316090000.20240316100000"
    assert main([str(trail), "--passwd", str(folder / "etc" / "passwd"), "--text"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out
    assert max(len(line) for line in out.splitlines()) < 2000


def test_term_filter_caps_a_huge_cell():
    huge = "A" * 5_000_000 + "\x1b"
    cell = visible.term(huge)
    assert len(cell) == visible.CUT_TERM and cell.endswith("…")
    table = environment.environment().filters["table"]([(huge, "x")], "a", "b")
    assert max(len(line) for line in table.splitlines()) < 400
    assert visible.term("a\x1bb\uef9bc") == "a\\x1bb\\x9bc"


def test_html_filter_marks_invisible_characters():
    out = str(visible.html("<b>\x1b\uefff"))
    assert out == '&lt;b&gt;<span class="kr-ctl">\\x1b</span><span class="kr-ctl">\\xff</span>'


def test_chart_labels_are_escaped_and_literal():
    """A chart's labels reach the SVG through the template's autoescape: markup stays text,
    ``{{7*7}}`` is not evaluated, invisible characters show as escapes, ``$`` stays ``$``."""
    from forensics.report import charts
    chart = charts.chart([("m\x1b[2J\u202e$x$ <img src=x>", [1] * 96)], 0, 60_000, "{{7*7}}",
                         "{{7*7}}", "{{7*7}}")
    svg = str(environment.environment().get_template("_chart.html.j2").module.chart_svg(chart))
    assert "\x1b" not in svg and "\u202e" not in svg and "<img" not in svg
    assert "&lt;img src=x&gt;" in svg and "{{7*7}}" in svg and "$x$" in svg
    assert "\\x1b[2J\\u202e$x$ &lt;img src=x&gt;" in svg
    assert "<!DOCTYPE" not in svg and svg.startswith("<svg")
    doc = parse(svg)
    assert doc.find("svg") is not None and not {n.tag for n in doc.iter()} & MARKUP_TAGS
    legend = [t.text() for t in doc.find("g", class_="kr-ch-legend").find_all("text")]
    assert legend == ["m\\x1b[2J\\u202e$x$ <img src=x>"]
    assert doc.find("text", class_="kr-ch-title").text() == "{{7*7}}"         # not 49
    assert doc.find("svg").attrs["aria-label"] == "{{7*7}}"


def test_hostile_names_in_the_timeline_are_text(hostile):
    text, doc, _ = hostile
    timeline = doc.find("section", id="timeline")
    legend = [t.text() for t in timeline.find_all("text")]
    assert "m<img src=x onerror=alert(1)> (502)" in legend
    assert "<img" not in text[text.index('id="timeline"'):]


def test_breaks_are_added_to_escaped_text_only(hostile):
    """Paths get a <wbr> after / and . in their escaped text: a payload's markup stays text and
    no <wbr> lands inside an entity or a tag."""
    text, doc, _ = hostile
    assert "<wbr>" in text
    assert not re.search(r"&[#a-z0-9]*<wbr>", text)
    inside = {n.tag for td in doc.find_all("td") for n in td.iter() if n is not td}
    assert inside <= {"wbr", "span", "ol", "li", "a"}, inside


def test_csv_keeps_argument_boundaries_and_neutralises_formulas(browser, hostile):
    """The CSV of an argv cell shell-quotes its arguments; no cell opens with a formula."""
    import csv
    import io

    _, _, folder = hostile
    browser.get("about:blank")
    browser.get((folder / "report.html").resolve().as_uri())
    got = list(csv.reader(io.StringIO(browser.execute_script("return window.krCsv('commands')"))))
    argv = [r[got[0].index("argv")] for r in got[1:]]

    def quote(arg: str) -> str:
        return "'" + arg.replace("'", "'\\''") + "'"

    assert f"{quote(payloads.FORMULA)} -c {quote('echo ' + payloads.FORMULA)}" in argv
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in got for cell in row)

