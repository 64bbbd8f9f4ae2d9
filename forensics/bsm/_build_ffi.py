"""cffi builder for ``forensics.bsm._cbsm``: wires ``csrc/bsm.h``, ``csrc/select.h``,
``csrc/arrow.h`` and the C files behind them (``columns.c`` and ``concat.c`` are internal to
``bsm.c``; ``arrow.c`` alone includes Python.h, for its capsule destructors), nothing else.

Out-of-line API mode. setup.py runs it through ``cffi_modules``; by hand::

    python forensics/bsm/_build_ffi.py   # builds forensics/bsm/_cbsm*.so in place

By hand the module is built in a temporary folder beside it and then renamed over the old one
in one step: processes importing it meanwhile see the old file or the new one, never half of
one (and a process that has the old one loaded keeps its own copy).
"""

from __future__ import annotations

import os
import re
import tempfile

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))
_HEADERS = ("bsm.h", "select.h", "arrow.h")


def _declarations(name: str) -> str:
    """The declarations of one header (between its extern "C" guards), for cffi's cdef: the
    header is the only place they are written."""
    with open(os.path.join(_HERE, "csrc", name), encoding="utf-8") as f:
        header = f.read()
    body = header.split('extern "C" {\n#endif', 1)[1].split("#ifdef __cplusplus", 1)[0]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    # include guards and flag-only defines are for C compilers; cdef takes constants only
    return re.sub(r"^#(?:if|ifdef|ifndef|else|endif|define \w+$).*$", "", body, flags=re.M)


_SOURCES = ("forensics/bsm/csrc/bsm.c", "forensics/bsm/csrc/columns.c",
            "forensics/bsm/csrc/concat.c", "forensics/bsm/csrc/arrow.c",
            "forensics/bsm/csrc/select.c")
CDEF = "\n".join(_declarations(name) for name in _HEADERS)



def _builder(root: str = "") -> FFI:
    """The cffi builder; the sources relative to the project root (setup.py's folder), or
    under ``root`` when given (a build from another folder)."""
    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        "forensics.bsm._cbsm",
        "".join(f'#include "{name}"\n' for name in _HEADERS),
        sources=[os.path.join(root, path) for path in _SOURCES],
        include_dirs=[os.path.join(root, "forensics/bsm/csrc")],
        extra_compile_args=["-O2"],
    )
    return ffi


ffibuilder = _builder()


def build_in_place() -> str:
    """Compile into a temporary folder beside the module, then rename it over the old one."""
    root = os.path.dirname(os.path.dirname(_HERE))
    with tempfile.TemporaryDirectory(prefix=".build-", dir=_HERE) as tmp:
        built = _builder(root).compile(tmpdir=tmp, verbose=True)
        # the name setup.py gives it: cffi's module uses the limited API (abi3)
        target = os.path.join(_HERE, "_cbsm.abi3.so")
        os.replace(built, target)       # same file system: atomic
    return target


if __name__ == "__main__":
    print(build_in_place())
