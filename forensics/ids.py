"""Values of BSM's 32-bit ids (uids, gids, auids, asids, pids), defined once; no imports, so
the command line's fast paths can use them without loading Polars."""

from __future__ import annotations

__all__ = ["UNSET"]

#: A uid, gid, auid or asid that is not set: BSM's (uint32)-1 (AU_DEFAUDITID for auid). It is
#: also the largest 32-bit id.
UNSET = 0xFFFFFFFF
