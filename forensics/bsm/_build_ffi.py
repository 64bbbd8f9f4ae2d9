"""cffi builder for ``forensics.bsm._cbsm``: wires ``csrc/bsm.h``, ``csrc/select.h`` and their
C files, nothing else.

Out-of-line API mode. setup.py runs it through ``cffi_modules``; by hand::

    python forensics/bsm/_build_ffi.py   # builds forensics/bsm/_cbsm*.so in place
"""

from __future__ import annotations

import os
import re

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))
_HEADERS = ("bsm.h", "select.h")


def _declarations(name: str) -> str:
    """The declarations of one header (between its extern "C" guards), for cffi's cdef: the
    header is the only place they are written."""
    with open(os.path.join(_HERE, "csrc", name), encoding="utf-8") as f:
        header = f.read()
    body = header.split('extern "C" {\n#endif', 1)[1].split("#ifdef __cplusplus", 1)[0]
    return re.sub(r"/\*.*?\*/", "", body, flags=re.S)


CDEF = "\n".join(_declarations(name) for name in _HEADERS)

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "forensics.bsm._cbsm",
    "".join(f'#include "{name}"\n' for name in _HEADERS),
    # relative to the project root (setup.py's folder)
    sources=["forensics/bsm/csrc/bsm.c", "forensics/bsm/csrc/select.c"],
    include_dirs=["forensics/bsm/csrc"],
    extra_compile_args=["-O2"],
)

if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.dirname(_HERE)))    # the project root
    ffibuilder.compile(verbose=True)
