"""The report's structure: references, run facts, the cells' words."""

from __future__ import annotations

import hashlib

import polars as pl

import forensics
from forensics.cli import inputs
from forensics.report import sections
from forensics.report.refs import Finder, record_key

from ..conftest import FIXTURES


def test_references_name_files_as_evidence_does():
    f = Finder(["/a/x/20240315.not_terminated", "/b/one/dup", "/b/two/dup", "arc.tgz!var/t1"])
    refs = f.refs("auid unset (20240315.not_terminated:12); see /b/one/dup:7, t1:9 and dup:3.")
    keys = refs.keys
    assert keys == [("/a/x/20240315.not_terminated", 12), ("/b/one/dup", 7), ("arc.tgz!var/t1", 9)]
    assert refs.text.endswith("dup:3.")                    # ambiguous short name: not a link
    assert f.label("/a/x/20240315.not_terminated", 5).text == "20240315.not_terminated:5"
    assert f.label("/b/two/dup", 5).text == "/b/two/dup:5"
    assert record_key("/b/one/dup", 7) == record_key("/b/one/dup", 7) != record_key("/b/one/dup", 8)


def test_a_folder_lists_and_hashes_only_the_files_read():
    audit = forensics.load(str(FIXTURES / "demo"), since="2024-03-15T15:00:00Z", tz="UTC")
    done = []
    (folder,) = inputs.describe([str(FIXTURES / "demo")], audit.sources, done.append)
    assert [f.path.rsplit("/", 1)[1] for f in folder.files] == ["20240315140000.not_terminated"]
    data = (FIXTURES / "demo" / "20240315140000.not_terminated").read_bytes()
    assert folder.files[0].sha256 == hashlib.sha256(data).hexdigest()
    assert sum(done) == len(data) == folder.size


def test_structure_is_built_on_attribution():
    audit = forensics.load(str(FIXTURES / "demo"), passwd=str(FIXTURES / "demo_etc" / "passwd"))
    report = sections.build(audit, sections.Run(zone="UTC"))
    people = report.sections["people"].table("people")
    assert [r[0] for r in people.rows] == ["alice (501)", "bob (502)",
                                           "no person (daemons, the system)"]
    alice = people.rows[0]
    assert alice[1] == audit.events.filter(pl.col("user") == 501).height
    assert alice[3] == 16                                   # the helpers' records, inferred
    assert report.counts["people"] == 2
    assert set(report.sections) == set(sections.SECTIONS)


def test_large_trees_fold_to_their_top_level_or_further():
    from forensics.report.trees import FOLD_ABOVE, Node, Tree

    def node(pid: int) -> Node:
        return Node(f"{pid}@t:0", pid, "sh", "sh", "alice (501)", "2024-03-15 08:00:00.000Z", "")

    small = Tree(1, "alice (501)", [node(1)], 1, 1)
    assert small.open_nodes and small.open_roots
    wide = Tree(2, "alice (501)", [node(i) for i in range(FOLD_ABOVE + 1)], 400, 300)
    assert not wide.open_nodes and not wide.open_roots
    deep = Tree(3, "alice (501)", [node(1)], 400, 300)
    assert not deep.open_nodes and deep.open_roots


def _page(audit) -> str:
    from forensics.report import html
    report = sections.build(audit, sections.Run(zone="UTC"))
    report.timings.clear()
    return html.render(report).replace(report.generated, "")


def test_the_report_reads_only_the_columns_it_names():
    # the main job decodes only RECORD_COLUMNS: every section must come out the same
    from forensics.report.structure import RECORD_COLUMNS
    for path in (FIXTURES / "demo", FIXTURES / "scenarios"):
        full = forensics.load(str(path))
        some = forensics.load(str(path), columns=RECORD_COLUMNS)
        assert len(some.records.columns) < len(full.records.columns)
        assert _page(some) == _page(full)


def test_cited_records_are_read_from_compressed_and_damaged_trails(tmp_path):
    import gzip
    trail = FIXTURES / "demo" / "20240315080000.20240315100000"
    data = trail.read_bytes()
    (tmp_path / (trail.name + ".gz")).write_bytes(gzip.compress(data))
    cut = len(data) * 2 // 3
    (tmp_path / "20240315100000.20240315140000").write_bytes(data[:cut])
    audit = forensics.load(str(tmp_path))
    keys = audit.records.select("source", "offset").rows()
    tokens = audit.tokens_at(keys)
    assert tokens.select("source", "record_offset").unique().height == len(keys)
    plain = forensics.load(str(trail))
    want = plain.tokens_at(plain.records.select("source", "offset").rows()).drop("source")
    got = tokens.filter(pl.col("source").str.ends_with(".gz")).drop("source")
    assert got.equals(want)
    # the cut copy: every whole record before the cut, none after it
    part = tokens.filter(~pl.col("source").str.ends_with(".gz"))
    assert part.get_column("record_offset").max() < cut
    assert part.select("record_offset").unique().height == audit.records.filter(
        ~pl.col("source").str.ends_with(".gz")).height
