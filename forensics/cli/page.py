"""Where the main job's HTML report goes: the overwrite check, the write, and the few lines
printed about it."""

from __future__ import annotations

import os
import tempfile

from ..errors import KnoxError
from ..report.coverage import size_text
from ..report.sections import Report

__all__ = ["DEFAULT", "check_target", "write", "lines", "OURS"]

DEFAULT = "knox-report.html"
#: how a knox-report report starts (within its first 4 KB)
OURS = b'<meta name="generator" content="knox-report'


def check_target(path: str, force: bool) -> None:
    """Refuse to overwrite a file that is not a knox-report report (unless ``force``)."""
    if path == "-":
        return
    if os.path.isdir(path):
        raise KnoxError(f"{path}: is a folder; give a file name for the report")
    if not os.path.exists(path) or force:
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as err:
        raise KnoxError(f"{path}: {err.strerror}") from err
    if OURS not in head:
        raise KnoxError(f"{path} exists and is not a knox-report report; "
                        "use --force to overwrite it, or -o to write elsewhere")


def write(path: str, page: str, stdout) -> None:
    """Write the page next to its target, then move it into place (no half-written report)."""
    data = page.encode("utf-8")
    if path == "-":
        stdout.buffer.write(data) if hasattr(stdout, "buffer") else stdout.write(page)
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".knox-report-", suffix=".html", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def lines(report: Report, path: str, size: int) -> list[str]:
    """What the terminal says: what was read, records, damage, where the report is."""
    v = report.sections["run"].values
    c = report.counts
    out = [f"read {v['files_read']} file(s), {v['bytes_read']:,} bytes"
           + (f" ({v['files_unread']} not read)" if v["files_unread"] else "")
           + f"; {v['records']:,} records kept of {v['seen']:,}"
           + (f", {v['first']} to {v['last']}" if v["records"] else "")]
    if v["damage_spans"]:
        out.append(f"damage: {v['damage_spans']:,} span(s), {v['damage_bytes']:,} bytes skipped; "
                   "every good record was kept")
    else:
        out.append("damage: none")
    found = [(c.get("people", 0), "people"), (c.get("commands", 0), "commands"),
             (c.get("files", 0), "file events"), (c.get("inferred", 0), "inferred claims"),
             (c.get("logins", 0), "logins")]
    out.append(", ".join(f"{n:,} {what}" for n, what in found))
    if path != "-":
        out.append(f"report: {os.path.abspath(path)} ({size_text(size)})")
    return out
