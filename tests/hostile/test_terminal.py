"""No control character from the evidence reaches the terminal: file and member names, link
targets, user, group and event names (issue 10, and rule 8 of issue 7)."""

from __future__ import annotations

import pytest

from forensics.testing import hostile

from .expect import clean
from .watchdog import knox


@pytest.mark.parametrize("mode", ["--text", "--quiet"])
def test_names_from_evidence_are_shown_inert(tmp_path, mode):
    # --text: the whole text summary on the terminal; the HTML report's own run prints its
    # progress and closing lines (and --quiet none) -- stderr is checked in both
    ev = hostile.control_evidence(tmp_path)
    run = clean(knox(ev["audit"], mode, "--passwd", ev["passwd"], "--group", ev["group"],
                     "--audit-event", ev["audit_event"], seconds=20))
    assert run.rc == 0
    if mode == "--text":
        assert "52;c;cHduZWQ=" in run.stdout                  # shown, made visible, not dropped


def test_the_reports_own_lines_and_errors_are_inert(tmp_path):
    ev = hostile.control_evidence(tmp_path)
    run = clean(knox(ev["audit"], "--passwd", ev["passwd"], "--group", ev["group"],
                     "--audit-event", ev["audit_event"], seconds=20))
    assert run.rc == 0


def test_a_link_target_in_an_error_is_inert(tmp_path):
    import os

    link = tmp_path / "trail"
    os.symlink("\x1b[2J\x1b]52;c;cHduZWQ=\x07gone", link)
    run = clean(knox(link, seconds=20))
    assert run.rc == 2
    assert "\\x1b" in run.stderr
