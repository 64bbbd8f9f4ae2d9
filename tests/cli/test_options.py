"""cli/options.py: what the command line's shared options turn into."""

from __future__ import annotations

import click
import pytest

from forensics.cli.options import split_outputs


def test_o_names_the_output_once_and_passes_object_filters_on():
    objects: list = []
    assert split_outputs(["file=^/Users", "r.html", "pid=7"], objects, "report file") == "r.html"
    assert objects == ["file=^/Users", "pid=7"]
    assert split_outputs(["sock=x"], [], "export folder") is None
    with pytest.raises(click.UsageError, match="-o given twice for the report file"):
        split_outputs(["a.html", "b.html"], [], "report file")
