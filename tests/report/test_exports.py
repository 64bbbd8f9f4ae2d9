"""Exports: the frames as Parquet, CSV and JSON Lines and back; the Timesketch timeline."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

import forensics
from forensics.bsm import writer as w
from forensics.cli import main
from forensics.report import exports, timesketch
from forensics.text import encode_text

from ..conftest import FIXTURES

DEMO = FIXTURES / "demo"
ETC = FIXTURES / "demo_etc"
BIG = "A" * 40_000          # over the 32,766-byte term limit of the search index
RESERVED = {"_id", "_index", "_type", "_source"}


@pytest.fixture(scope="module")
def demo():
    return forensics.load(DEMO, passwd=ETC / "passwd", group=ETC / "group")


def _hostile_trail(folder):
    """Evidence strings that break naive exports: line breaks, quotes, commas, invalid UTF-8,
    a genuine U+EF80, empty strings, and one string over the index's term limit."""
    trail = w.Trail()
    who = w.subject(auid=501, euid=0, ruid=501, pid=4242, asid=100001)
    t0 = 1710489600.25
    trail.record(w.AUE_EXECVE, [
        w.exec_args(["sh", "-c", 'echo a\nb,"q"\r\n', b"\xff\xfe\x80", "\uef80x", "", BIG]),
        w.path(b"/tmp/x\ny\xff"), who, w.return32()], time=t0)
    trail.record(w.AUE_OPEN_WC, [w.path("/Volumes/USB/a,\"b\".pdf"), who, w.return32()],
                 time=t0 + 1)
    trail.record(w.AUE_OPEN_R, [w.path(""), w.text("line1\nline2\\n"), who,
                                w.return32(errno=13, value=-1)], time=t0 + 2)
    return trail.write_to(folder / "hostile.trail")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return forensics.load(_hostile_trail(tmp_path_factory.mktemp("hostile")))


# --- frames round-trip ----------------------------------------------------------------------

@pytest.mark.parametrize("which", ["demo", "hostile"])
def test_parquet_reads_back_as_identical_frames(which, request, tmp_path):
    audit = request.getfixturevalue(which)
    audit.write(tmp_path, "parquet")
    back = forensics.read(tmp_path)
    assert isinstance(back, forensics.Audit)
    for name in exports.FRAMES:
        original, stored = getattr(audit, name), getattr(back, name)
        assert stored.schema == original.schema, name
        assert stored.equals(original), name


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("which", ["demo", "hostile"])
def test_text_formats_read_back_by_the_documented_rules(fmt, which, request, tmp_path):
    audit = request.getfixturevalue(which)
    written = audit.write(tmp_path, fmt)
    assert sorted(written) == sorted(exports.FRAMES)
    for name in exports.FRAMES:
        back = exports.read_frame(tmp_path, name)
        original = getattr(audit, name)
        assert back.schema == original.schema, name
        assert back.equals(original), name


def test_text_formats_follow_the_rules(hostile, tmp_path):
    hostile.write(tmp_path / "j", "jsonl")
    hostile.write(tmp_path / "c", "csv")
    row = json.loads((tmp_path / "j" / "records.jsonl").read_text().splitlines()[0])
    assert row["time"] == "2024-03-15T08:00:00.250Z"
    assert row["exec_argv"][2] == 'echo a\nb,"q"\r\n'
    # invalid UTF-8 keeps its private-use mapping, and maps back to the very bytes
    assert encode_text(row["exec_argv"][3]) == b"\xff\xfe\x80"
    assert encode_text(row["paths"][0]) == b"/tmp/x\ny\xff"
    tok = json.loads((tmp_path / "j" / "tokens.jsonl").read_text().splitlines()[0])
    assert bytes.fromhex(tok["raw"])[:1] == b"\x14"          # header32, as hex
    with open(tmp_path / "c" / "records.csv", newline="", encoding="utf-8") as fh:
        cells = list(csv.DictReader(fh))
    assert json.loads(cells[0]["exec_argv"])[2] == 'echo a\nb,"q"\r\n'
    assert cells[0]["host"] == "" and cells[2]["paths"] == '[""]'
    text = (tmp_path / "c" / "records.csv").read_text(encoding="utf-8")
    assert ',"",' in text or text.count('""') >= 1            # "" is an empty string, not null
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["format"] == "csv"
    assert manifest["frames"]["records"]["rows"] == 3
    assert {"Datetime": ["ms", "UTC"]} in [t for _, t in manifest["frames"]["records"]["columns"]]


def test_types_survive_the_manifest():
    for dtype in [pl.UInt8(), pl.Datetime("ms", "UTC"), pl.Duration("ms"), pl.Binary(),
                  pl.List(pl.Struct({"a": pl.UInt64, "t": pl.Datetime("ms", "UTC")}))]:
        text = json.dumps(exports.dtype_to_json(dtype))
        assert exports.dtype_from_json(json.loads(text)) == dtype
    with pytest.raises(ValueError):
        exports.dtype_from_json("__import__('os')")


def test_exports_write_in_slices(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 50)
    monkeypatch.setattr(exports, "TOKEN_BATCH", 7)
    seen = []
    demo.write(tmp_path, "csv", progress=lambda name, rows, _total: seen.append((name, rows)))
    assert ("records", 50) in seen and ("records", demo.records.height) in seen
    assert exports.read_frame(tmp_path, "records").equals(demo.records)
    assert exports.read_frame(tmp_path, "tokens").equals(demo.tokens)


def test_read_is_lazy_and_refuses_other_folders(demo, tmp_path):
    demo.write(tmp_path / "p", "parquet")
    back = forensics.read(tmp_path / "p")
    assert "_frames" not in vars(back)                      # nothing read yet
    assert back.lazy("events").select("user_name").collect().height == demo.events.height
    assert back.person("alice").commands.height == demo.person("alice").commands.height
    keys = demo.records.select("source", "offset").head(3).rows()
    assert back.tokens_at(keys).equals(demo.tokens_at(keys))
    demo.write(tmp_path / "j", "jsonl")
    with pytest.raises(forensics.KnoxError, match="Parquet"):
        forensics.read(tmp_path / "j")
    with pytest.raises(forensics.KnoxError, match="not a knox-report export"):
        forensics.read(tmp_path)


# --- Timesketch -------------------------------------------------------------------------

def _check_timeline(text: str) -> list[dict]:
    """What Timesketch needs of every line: its required fields, one type per key, no
    reserved field, and a head and hash for strings its index cannot hold as one term."""
    rows, types = [], {}
    for line in text.splitlines():
        row = json.loads(line)
        assert isinstance(row, dict) and not RESERVED & set(row)
        assert isinstance(row["message"], str) and row["message"].strip()
        assert isinstance(row["timestamp_desc"], str) and row["timestamp_desc"]
        when = datetime.fromisoformat(row["datetime"])
        assert when.tzinfo is not None and len(row["datetime"].split(".")[1]) == len("000000+00:00")
        assert isinstance(row["timestamp"], int)
        assert row["timestamp"] == round(when.timestamp() * 1_000_000)
        for key, value in row.items():
            assert types.setdefault(key, type(value)) is type(value), key
            if isinstance(value, str) and len(value.encode()) > timesketch.LIMIT:
                assert row[f"{key}_head"] and len(row[f"{key}_sha256"]) == 64
        rows.append(row)
    assert len({tuple(r) for r in rows}) == 1              # the same keys, in order, everywhere
    return rows


def test_timesketch_lines_on_the_demo(demo, tmp_path):
    path = demo.write(tmp_path, "timesketch")["timeline"]
    rows = _check_timeline(path.read_text(encoding="utf-8"))
    assert len(rows) == demo.events.height + demo.sessions["start"].drop_nulls().len() \
        + demo.sessions["end"].drop_nulls().len()
    messages = [r["message"] for r in rows]
    assert ("alice (501, inferred high, elevated) DesktopServicesHelper created "
            "/Volumes/USB/report.pdf") in messages
    copy = next(r for r in rows if r["message"].endswith("created /Volumes/USB/report.pdf"))
    assert copy["data_type"] == "macos:bsm:file" and copy["attribution_kind"] == "inferred"
    assert copy["elevated"] is True and copy["user"] == "501" and copy["paths"]
    kinds = {r["data_type"] for r in rows}
    assert {"macos:bsm:exec", "macos:bsm:file", "macos:bsm:login", "macos:bsm:session"} <= kinds
    daemon = next(r for r in rows if r["user"] == "" and r["event_name"] == "AUE_POSIX_SPAWN")
    assert daemon["message"].startswith("no one (euid 0)")


def test_timesketch_long_strings_get_a_head_and_a_hash(hostile, tmp_path):
    path = hostile.write(tmp_path, "timesketch")["timeline"]
    rows = _check_timeline(path.read_text(encoding="utf-8"))
    first = rows[0]
    assert BIG in first["command_line"] and BIG in first["argv"]       # kept whole
    assert len(first["command_line_head"]) == timesketch.HEAD_CHARS
    assert rows[1]["command_line_head"] == "" and rows[1]["command_line_sha256"] == ""
    assert rows[2]["result"].startswith("EACCES") or "errno 13" in rows[2]["result"]


def test_timesketch_csv_has_no_raw_line_breaks(hostile, demo, tmp_path):
    for audit, name in ((hostile, "h"), (demo, "d")):
        path = audit.write(tmp_path / name, "timesketch-csv")["timeline"]
        raw = path.read_bytes()
        with open(path, newline="", encoding="utf-8") as fh:
            table = list(csv.reader(fh))
        header, body = table[0], table[1:]
        assert raw.count(b"\n") == len(table) and b"\r" not in raw
        assert {"message", "datetime", "timestamp_desc", "timestamp"} <= set(header)
        assert len(body) == timesketch.frame(audit).height
    assert dict(zip(header, body[0]))["datetime"].endswith("+00:00")
    with open(tmp_path / "h" / "timeline.csv", newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert "\\n" in row["command_line"] and "\n" not in row["command_line"]
    assert json.loads(row["argv"])[2] == 'echo a\nb,"q"\r\n'


# --- the command --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "timesketch", "timesketch-csv"])
def test_export_command(fmt, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["export", str(DEMO), "--passwd", str(ETC / "passwd"), "--format", fmt,
                 "-o", str(out), "--since", "2024-03-15T09:00:00Z", "--until",
                 "2024-03-15T10:00:00Z"])
    assert code == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed and all(Path(p).exists() for p in listed)
    if fmt == "parquet":
        audit = forensics.read(out)
        times = audit.records["time"]
        assert times.min() >= datetime.fromisoformat("2024-03-15T09:00:00+00:00")
        assert audit.events["user_name"].drop_nulls().unique().to_list() == ["alice"]
    if fmt.startswith("timesketch"):
        suffix = "csv" if "csv" in fmt else "jsonl"
        assert [p.name for p in out.iterdir()] == [f"timeline.{suffix}"]


def test_export_command_refuses_a_folder_in_use(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["export", str(DEMO), "-o", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["export", str(DEMO), "-o", str(tmp_path), "--force", "-q", "-m",
                 "AUE_EXECVE", "-o", "file=^/bin/"]) == 0
    assert forensics.read(tmp_path).records["event_name"].unique().to_list() == ["AUE_EXECVE"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "timesketch", "timesketch-csv"])
def test_an_empty_selection_exports_empty_files(fmt, tmp_path):
    audit = forensics.load(DEMO, since="2030-01-01T00:00:00Z")
    assert audit.records.height == 0
    written = audit.write(tmp_path, fmt)
    if fmt.startswith("timesketch"):
        text = written["timeline"].read_text()
        assert text == "" if fmt == "timesketch" else text.startswith("message,datetime,")
        return
    for name in exports.FRAMES:
        back = forensics.read(tmp_path) if fmt == "parquet" else None
        frame = getattr(back, name) if back else exports.read_frame(tmp_path, name)
        assert frame.equals(getattr(audit, name)) and frame.schema == getattr(audit, name).schema


def test_progress_line_without_a_progress_library(capsys):
    from forensics.cli.export import _Line

    line = _Line("events", 356)
    line.update(100)
    line.close()
    assert "writing events: 100 of 356 rows" in capsys.readouterr().err


def test_read_takes_the_selection_options(demo, tmp_path):
    demo.write(tmp_path, "parquet")
    options = dict(since="2024-03-15T09:00Z", until="2024-03-15T20:00Z", event=("AUE_OPEN_WC",),
                   objects=("file=^/Volumes/",))
    loaded = forensics.load(DEMO, passwd=ETC / "passwd", group=ETC / "group", **options)
    back = forensics.read(tmp_path, passwd=ETC / "passwd", **options)
    assert back.records.height == 3 and back.records.equals(loaded.records)
    assert back.tokens.equals(loaded.tokens)
    assert set(back.events["event_name"]) == {"AUE_OPEN_WC"}
    assert back.processes.equals(demo.processes)            # described the whole export
    with pytest.raises(forensics.KnoxError):
        forensics.read(tmp_path, since="not a time")


def test_csv_tells_an_empty_string_from_null(tmp_path):
    """The CSV rules on a hand-made frame: every value kind next to its null."""
    from types import SimpleNamespace

    frame = pl.DataFrame({
        "s": ["", None, "a\nb", '"', ","],
        "n": [0, None, 1, 2, 3],
        "l": [[], None, [""], [None], ["x,y"]],
        "st": [{"a": None}, None, {"a": ""}, {"a": "q"}, {"a": "\\"}],
        "b": [b"", None, b"\x00", b"\xff", b"ab"],
    }, schema={"s": pl.String, "n": pl.UInt8, "l": pl.List(pl.String),
               "st": pl.Struct({"a": pl.String}), "b": pl.Binary})
    for fmt in ("csv", "jsonl"):
        exports.write(SimpleNamespace(records=frame), tmp_path / fmt, fmt, frames=("records",))
        assert exports.read_frame(tmp_path / fmt, "records").equals(frame), fmt


def test_export_command_writes_the_frames_asked_for(tmp_path, capsys):
    assert main(["export", str(DEMO), "-o", str(tmp_path), "--frames", "records,events"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events.parquet", "manifest.json", "records.parquet"]
    back = forensics.read(tmp_path)
    assert back.events.height == back.records.height
    with pytest.raises(forensics.KnoxError, match="no tokens frame"):
        back.tokens
    assert main(["export", str(DEMO), "-o", str(tmp_path / "x"), "--frames", "nope"]) == 2
    assert "--frames" in capsys.readouterr().err


@pytest.mark.parametrize("trail", sorted((FIXTURES / "scenarios").glob("*.trail")),
                         ids=lambda p: p.stem)
def test_timesketch_lines_on_every_scenario(trail, tmp_path):
    audit = forensics.load(trail, passwd=ETC / "passwd", group=ETC / "group")
    path = audit.write(tmp_path, "timesketch")["timeline"]
    rows = _check_timeline(path.read_text(encoding="utf-8"))
    assert len(rows) >= audit.events.height
