"""A trail from a pipe, in pieces that end where records end (``praudit -``, ``reduce -``)."""

from __future__ import annotations

import io

import pytest

from forensics.bsm.praudit import Renderer
from forensics.bsm.stream import pieces
from tests.bsm.adversarial import bad_size_run

from ..conftest import FIXTURES, shared_files


class Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read, like a slow pipe."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step, self.pos = data, step, 0

    def readable(self):
        return True

    def read1(self, n=-1):
        chunk = self.data[self.pos:self.pos + min(self.step, n if n > 0 else self.step)]
        self.pos += len(chunk)
        return chunk


def _inputs():
    files = [p for p in shared_files("openbsm/trail", "*.trail")]
    files += sorted((FIXTURES / "scenarios").glob("*.trail"))
    return files


def _render(chunks, warn) -> bytes:
    out = io.BytesIO()
    r = Renderer(out, oneline=True, warn=warn)
    r.begin()
    for base, piece in chunks:
        r.trail(piece, "<stdin>", base)
    r.end()
    return out.getvalue()


@pytest.mark.parametrize("step", [1, 7, 4096])
@pytest.mark.parametrize("path", _inputs(), ids=lambda p: p.name)
def test_pieces_render_as_the_whole_input_does(path, step):
    data = path.read_bytes()
    got = list(pieces(Trickle(data, step)))
    assert b"".join(piece for _, piece in got) == data
    assert [base for base, _ in got] == [sum(len(p) for _, p in got[:i]) for i in range(len(got))]
    whole_warn, piece_warn = [], []
    assert _render(got, piece_warn.append) == _render([(0, data)], whole_warn.append)
    assert piece_warn == whole_warn


def test_a_damaged_run_is_cut_at_the_next_valid_record():
    data = bad_size_run(200_000)
    got = list(pieces(Trickle(data, 65536)))
    assert b"".join(piece for _, piece in got) == data
    assert len(got) > 1
