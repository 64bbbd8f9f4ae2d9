"""cffi builder for ``forensics.bsm._cbsm``: wires ``csrc/bsm.h`` and ``csrc/bsm.c``, nothing else.

Out-of-line API mode. setup.py runs it through ``cffi_modules``; by hand::

    python forensics/bsm/_build_ffi.py   # builds forensics/bsm/_cbsm*.so in place
"""

from __future__ import annotations

import os
import re

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))

def _declarations() -> str:
    """The declarations of bsm.h (between its extern "C" guards), for cffi's cdef: the header
    is the only place they are written."""
    with open(os.path.join(_HERE, "csrc", "bsm.h"), encoding="utf-8") as f:
        header = f.read()
    body = header.split('extern "C" {\n#endif', 1)[1].split("#ifdef __cplusplus", 1)[0]
    return re.sub(r"/\*.*?\*/", "", body, flags=re.S)


CDEF = _declarations()

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "forensics.bsm._cbsm",
    '#include "bsm.h"',
    sources=["forensics/bsm/csrc/bsm.c"],      # relative to the project root (setup.py's folder)
    include_dirs=["forensics/bsm/csrc"],
    extra_compile_args=["-O2"],
)

if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.dirname(_HERE)))    # the project root
    ffibuilder.compile(verbose=True)
