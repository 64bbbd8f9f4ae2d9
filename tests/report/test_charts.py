"""The timeline's charts: geometry in numbers (report/plot.py), the SVG from the report's own
template, and a main job that needs neither Matplotlib nor numpy."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest

from forensics.cli.main import main
from forensics.report import charts, plot

from ..conftest import FIXTURES
from .page import parse

DEMO = str(FIXTURES / "demo")
ETC = ["--passwd", str(FIXTURES / "demo_etc" / "passwd"),
       "--group", str(FIXTURES / "demo_etc" / "group")]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


# ---- geometry ----------------------------------------------------------------------------------

@pytest.mark.parametrize("top, ticks", [
    (0, [0, 1]), (1, [0, 1]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]), (60, [0, 20, 40, 60]),
    (61, [0, 20, 40, 60, 80]), (4873, [0, 1000, 2000, 3000, 4000, 5000]),
    (1_234_567, [0, 500_000, 1_000_000, 1_500_000])])
def test_count_ticks_take_1_2_5_steps(top, ticks):
    assert plot.count_ticks(top) == ticks


def test_count_labels_follow_the_axis_top():
    assert [plot.count_label(v, 5000) for v in (0, 1000, 5000)] == ["0", "1,000", "5,000"]
    assert [plot.count_label(v, 400_000) for v in (0, 200_000)] == ["0", "200k"]
    assert [plot.count_label(v, 1_500_000) for v in (500_000, 1_500_000)] == ["0.5M", "1.5M"]


@pytest.mark.parametrize("lo, hi, most, labels", [
    ("2024-03-15T09:03:10", "2024-03-15T19:40:00", 9,
     ["03-15 10:00", "03-15 12:00", "03-15 14:00", "03-15 16:00", "03-15 18:00"]),
    ("2024-03-15T09:00:00", "2024-03-15T11:45:00", 8,
     ["03-15 09:00", "03-15 09:30", "03-15 10:00", "03-15 10:30", "03-15 11:00",
      "03-15 11:30"]),
    ("2024-03-15T09:00:01", "2024-03-15T09:07:00", 8,
     ["03-15 09:01", "03-15 09:02", "03-15 09:03", "03-15 09:04", "03-15 09:05",
      "03-15 09:06", "03-15 09:07"]),
    ("2024-03-13T17:00:00", "2024-03-16T02:00:00", 8,
     ["03-14 00:00", "03-14 12:00", "03-15 00:00", "03-15 12:00", "03-16 00:00"]),
    ("2024-01-01T00:00:00", "2024-03-01T00:00:00", 8,
     ["01-08 00:00", "01-22 00:00", "02-05 00:00", "02-19 00:00"]),      # Mondays
])
def test_time_ticks_fall_on_round_utc_times(lo, hi, most, labels):
    got = plot.time_ticks(_ms(lo), _ms(hi), most)
    assert [label for _, label in got] == labels
    assert all(_ms(lo) <= at <= _ms(hi) for at, _ in got)


def test_a_short_span_is_labelled_at_its_ends_with_seconds():
    got = plot.time_ticks(_ms("2024-03-15T09:00:05"), _ms("2024-03-15T09:00:50"), 8)
    assert [label for _, label in got] == ["03-15 09:00:05", "03-15 09:00:50"]


def test_stacked_steps_stack_in_order():
    x, y = plot.Scale(0, 3, 0, 30), plot.Scale(0, 4, 40, 0)
    first, second = plot.stacked_steps([[1, 1, 0], [0, 2, 3]], x, y)
    assert first == "0,30 20,30 20,40 0,40"
    assert second == "0,30 10,30 10,10 30,10 30,40 20,40 20,30 0,30"
    assert plot.num(2.25) in ("2.2", "2.3") and plot.num(-0.01) == "0" and plot.num(3.0) == "3"


# ---- the rendered page ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def timeline(tmp_path_factory):
    out = tmp_path_factory.mktemp("charts") / "report.html"
    assert main([DEMO, *ETC, "-o", str(out), "-q"]) == 0
    doc = parse(out.read_text(encoding="utf-8"))
    return doc.find("section", id="timeline")


def _texts(svg, group: str) -> list[str]:
    return [t.text() for t in svg.find("g", class_=group).find_all("text")]


def test_demo_charts_have_their_series_legend_and_ticks(timeline):
    people, kinds = [f.find("svg") for f in timeline.find_all("figure", class_="kr-chart")]
    assert _texts(people, "kr-ch-legend") == ["alice (501)", "no person", "bob (502)"]
    assert _texts(kinds, "kr-ch-legend") == ["pc", "fr", "cl", "fw", "lo", "nt", "aa",
                                             "4 others"]
    for svg, n in ((people, 3), (kinds, 8)):
        assert len(svg.find_all("polygon")) == n
        assert len(svg.find("g", class_="kr-ch-legend").find_all("rect")) == n
        assert _texts(svg, "kr-ch-y") == ["0", "20", "40", "60"]
        assert _texts(svg, "kr-ch-x") == ["03-15 10:00", "03-15 12:00", "03-15 14:00",
                                          "03-15 16:00", "03-15 18:00"]
        assert svg.attrs["viewbox"] == "0 0 1100 260"
        assert not svg.find_all("script") and not svg.find_all("foreignobject")
        assert all(not k.endswith("href") for node in svg.iter() for k in node.attrs)
    caption = timeline.find("figure").find("figcaption").text()
    assert caption == ("Activity per person: alice (501): 308 records; no person: 39 records; "
                       "bob (502): 9 records")


def test_legend_colours_match_the_areas(timeline):
    for svg in timeline.find_all("svg"):
        areas = [p.attrs["fill"] for p in svg.find_all("polygon")]
        swatches = [r.attrs["fill"] for r in svg.find("g", class_="kr-ch-legend").find_all("rect")]
        assert areas == swatches and len(set(areas)) == len(areas)


def test_long_labels_are_cut_to_40_characters():
    chart = charts.chart([("x" * 100, [1] * 96), ("short", [2] * 96)], 0, 1000, "h")
    assert [e.label for e in chart.legend] == ["x" * 39 + "…", "short"]
    assert [e.squeeze for e in chart.legend] == [None, None]


def test_a_label_too_wide_for_the_legend_is_squeezed_not_cut_off():
    from forensics.report import environment
    chart = charts.chart([("用户" * 30, [1] * 96)], 0, 1000, "h")
    (entry,) = chart.legend
    assert entry.label == "用户" * 19 + "用…" and entry.squeeze is not None
    assert chart.legend_x + 20 + entry.squeeze <= chart.width
    svg = str(environment.environment().get_template("_chart.html.j2").module.chart_svg(chart))
    assert f'textLength="{entry.squeeze}" lengthAdjust="spacingAndGlyphs"' in svg


# ---- the main job needs no Matplotlib or numpy ----------------------------------------------

_PROBE = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "numpy"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

if sys.argv[1] == "block":
    sys.meta_path.insert(0, Block())
from forensics.cli.main import main
code = main(sys.argv[2:])
print("HEAVY:" + ",".join(m for m in ("matplotlib", "numpy") if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


def test_the_main_job_imports_no_matplotlib(tmp_path):
    out = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-c", _PROBE, "-", DEMO, *ETC, "-o", str(out), "-q"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr.rsplit("HEAVY:", 1)[1], done.stderr
    assert out.read_text(encoding="utf-8").count("<svg ") == 2


def test_the_main_job_runs_without_matplotlib_or_numpy(tmp_path):
    """numpy is imported by pyarrow only when it is installed; the report never needs it."""
    out = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-c", _PROBE, "block", DEMO, *ETC, "-o", str(out),
                           "-q"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "HEAVY:\n" in done.stderr, done.stderr
    assert out.read_text(encoding="utf-8").count("<svg ") == 2
