"""The notebook helpers on ``Audit``: trees, people, paths, report sections; README examples."""

from __future__ import annotations

import re

import polars as pl
import pytest

import forensics
from forensics.bsm import writer as w
from forensics.explore import Section, glob_regex

from .conftest import FIXTURES, ROOT

DEMO = FIXTURES / "demo"
ETC = FIXTURES / "demo_etc"
SCENARIOS = FIXTURES / "scenarios"


@pytest.fixture(scope="module")
def demo():
    return forensics.load(DEMO, passwd=ETC / "passwd", group=ETC / "group")


def _helper(audit) -> str:
    return audit.processes.filter(
        pl.col("images").list.last().str.ends_with("DesktopServicesHelper"))["proc_id"][0]


def test_tree_is_the_process_and_its_descendants(demo):
    shell = demo.processes.filter(pl.col("pid") == 5100)["proc_id"][0]
    tree = demo.tree(shell)
    assert tree["depth"][0] == 0 and tree["proc_id"][0] == shell
    below = demo.descendants(shell)
    assert below.equals(tree.slice(1))
    ids = set(tree["proc_id"])
    assert all(p in ids for p in below["parent_proc_id"])
    assert "/usr/bin/curl" in below["image"].to_list()
    text = demo.tree(shell, text=True)
    assert text == demo.tree_text(shell)
    assert len(text.splitlines()) == tree.height
    assert text.splitlines()[1].startswith("    5101 ls -la")


def test_ancestors_by_parent_and_by_responsible(demo):
    helper = _helper(demo)
    parents = demo.ancestors(helper)
    assert parents["pid"].to_list() == [1] and parents["depth"].to_list() == [1]  # launchd
    asked = demo.ancestors(helper, via="responsible")
    assert asked["pid"].to_list() == [412]                                        # Finder
    assert helper in demo.descendants(asked["proc_id"][0], via="responsible")["proc_id"].to_list()
    with pytest.raises(forensics.KnoxError, match="no process"):
        demo.tree("nope@x:0")


def test_pid_reuse_gives_two_lives_in_the_tree():
    audit = forensics.load(SCENARIOS / "pid_reuse.trail")
    reused = audit.processes.group_by("pid").len().filter(pl.col("len") > 1)["pid"]
    assert reused.len()
    lives = audit.processes.filter(pl.col("pid") == reused[0])["proc_id"].to_list()
    for proc_id in lives:
        chain = audit.ancestors(proc_id)
        assert proc_id not in chain["proc_id"].to_list()
        assert audit.tree(proc_id)["proc_id"][0] == proc_id


def test_person_by_name_or_uid(demo):
    alice = demo.person("alice")
    assert (alice.uid, alice.name) == (501, "alice")
    assert demo.person(501).commands.equals(alice.commands)
    assert alice.commands.height == demo.events.filter(
        (pl.col("user") == 501) & pl.col("exec_argv").is_not_null()).height
    assert "/Volumes/USB/report.pdf" in alice.files["path"].to_list()
    assert set(alice.sessions["how"]) >= {"ssh", "login"}
    assert "alice (501)" in repr(alice)
    with pytest.raises(forensics.KnoxError, match="no user named"):
        demo.person("mallory")


def test_who_touched_a_path_or_a_glob(demo):
    usb = demo.who_touched("/Volumes/USB/*.pdf")
    assert usb["path"].unique().to_list() == ["/Volumes/USB/report.pdf"]
    assert set(usb["user_name"]) == {"alice"} and set(usb["attribution_kind"]) == {"inferred"}
    assert demo.who_touched("/Volumes/USB/report.pdf").equals(usb)
    assert demo.who_touched("/Volumes/[!U]*").height >= 1                # /Volumes/Backup
    assert demo.who_touched("/Volumes/US?/photos/*").height >= 1
    assert demo.who_touched("/nothing/here").height == 0


def test_glob_regex_matches_literally_outside_wildcards():
    series = pl.Series(["/a.b/c+d (1)", "/aXb/c+d (1)", "/a.b/x", "[x]", "a\nb"])
    hits = series.str.contains(glob_regex("/a.b/c+d (?)"))
    assert hits.to_list() == [True, False, False, False, False]
    assert series.str.contains(glob_regex("[[]x]")).to_list()[3]
    assert series.str.contains(glob_regex("a*b")).to_list()[4]          # * crosses line breaks
    names = pl.Series(["/a/x1", "/a/y2", "/a/-", "/a/&"])
    assert names.str.contains(glob_regex("/a/[a-x]?")).to_list() == [True, False, False, False]
    assert names.str.contains(glob_regex("/a/[!a-x]?")).to_list() == [False, True, False, False]
    assert names.str.contains(glob_regex("/a/[-&]")).to_list() == [False, False, True, True]


def test_an_impossible_glob_is_one_clear_error(demo):
    with pytest.raises(forensics.KnoxError, match="not a usable glob"):
        demo.who_touched("/a/[z-a]")


def test_section_renders_inline(demo):
    section = demo.section("commands")
    assert isinstance(section, Section)
    page = section._repr_html_()
    assert "curl" in page and "<table" in page


def test_helpers_escape_hostile_strings(tmp_path):
    trail = w.Trail()
    shell = w.subject(auid=501, euid=501, pid=700, asid=100001)
    trail.record(w.AUE_FORK, [w.arg(0, 701, "child PID"), shell, w.return32(value=701)],
                 time=1710489600.0)
    trail.record(w.AUE_EXECVE, [w.exec_args(["<script>x</script>", "\x1b[2J"]),
                                w.path("/tmp/<b>"),
                                w.subject(auid=501, euid=501, pid=701, asid=100001),
                                w.return32()], time=1710489600.1)
    audit = forensics.load(trail.write_to(tmp_path / "h.trail"))
    root = audit.processes.filter(pl.col("pid") == 700)["proc_id"][0]
    assert "\\x1b[2J" in audit.tree_text(root) and "\x1b" not in audit.tree_text(root)
    page = audit.section("commands")._repr_html_()
    assert "<script>x" not in page and "&lt;script&gt;" in page


def _readme_api_block() -> str | None:
    text = (ROOT / "README.md").read_text()
    if "## Notebook API" not in text:
        return None
    section = text.split("## Notebook API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_notebook_api_examples_run(monkeypatch):
    block = _readme_api_block()
    if block is None:
        pytest.skip("README has no '## Notebook API' section yet")
    monkeypatch.chdir(ROOT)
    exec(compile(block, "README.md: Notebook API", "exec"), {})
