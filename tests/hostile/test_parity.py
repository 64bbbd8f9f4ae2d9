"""The C and Python decoders agree on every hostile trail shape (small sizes, in process)."""

from __future__ import annotations

import pytest

from forensics.bsm import backends
from forensics.testing import hostile

needs_c = pytest.mark.skipif(not backends.c_available(), reason="the C core is not built here")

SHAPES = {
    "helper_join": lambda: hostile.helper_join(40),
    "planted_subject": hostile.planted_subject,
    "far_future": hostile.far_future,
    "msec_overflow": hostile.msec_overflow,
    "wrong_sizes": lambda: hostile.wrong_sizes(300),
    "big_exec_args": lambda: hostile.big_exec_args(2_000),
}


@needs_c
@pytest.mark.parametrize("shape", list(SHAPES))
def test_backends_agree_on_hostile_shapes(shape):
    buf = SHAPES[shape]()
    py = backends.decode_records(buf, "python")
    c = backends.decode_records(buf, "c")
    assert py.records.equals(c.records), shape
    assert py.errors == c.errors
    assert (py.records_seen, py.file_tokens) == (c.records_seen, c.file_tokens)
