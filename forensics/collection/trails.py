"""Trail collections: find and open BSM audit trails in whatever the responder hands us.

A *path* given to :func:`collect` may be

* a trail file, plain or compressed (gzip, bzip2, xz, zstd; the compression is recognised
  by its magic bytes, the suffix only helps to name the file);
* a directory laid out like ``/var/audit``;
* an archive (``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``, ``.tar.zst``,
  ``.zip``; recognised by content as well as by name) holding trails, at any depth.

Archives are read in place: tar archives are streamed with :mod:`tarfile`, zip members are
opened with :mod:`zipfile`; nothing is ever extracted to disk.

Rules
-----

Explicit paths
    A file named on the command line is always read, whatever its name or content (an archive
    is opened). A missing path, an unreadable file or an unreadable archive raises
    :class:`CollectionError` with a one-line message.

Directories
    Walked **recursively, at any depth**, in name order: evidence collections nest
    (``case/host/private/var/audit``). Symbolic links to directories are not followed, nor are
    hidden directories (``.git``, ``.Spotlight-V100``) or ``__MACOSX``. Archives found in a
    directory are opened; archives inside archives are not (they are listed as skipped).

Which files found in a directory or archive are read
    1. hidden files (``.DS_Store``, AppleDouble ``._*``) are skipped;
    2. audit configuration files (``audit_control``, ``audit_class``, ...) are skipped;
    3. files with a text/document suffix (``.txt``, ``.xml``, ``.json``, ``.log``, ...) are
       skipped (for instance ``START.END.txt``, a praudit dump of a trail);
    4. files named like trails (see below) are read, whatever their content;
    5. any other file is read only when its (decompressed) content starts like a BSM trail:
       a header token (0x14, 0x15, 0x74, 0x79) with a known record version, or a ``file``
       token (0x11). Everything else is listed in the skipped list with the reason.

Trail names (libauditd)
    ``YYYYMMDDhhmmss.YYYYMMDDhhmmss`` (start.end, kind ``terminated``),
    ``YYYYMMDDhhmmss.not_terminated``, ``YYYYMMDDhhmmss.crash_recovery``, each optionally
    followed by ``.<hostname>`` (auditd's ``host:`` setting) and by a compression suffix. The
    stamps are UTC and must be real dates and times, otherwise the kind is ``other``.

Links
    ``/var/audit/current`` is a symbolic link to the active trail, so it is never read twice:
    a link whose target is also collected is listed as skipped ``"link to <target path>"``; a
    link to nothing is skipped as ``"dangling link"``. macOS writes the link with an absolute
    target (``/var/audit/2024...``); in a copied evidence folder that target means the file of
    the same name *next to the link*, never the analyst's own ``/var/audit``, so an absolute
    target is looked up beside the link first; a found link to an absolute path elsewhere is
    not followed. A ``current`` found in a folder (a link, or a flattened text link) that
    leads out of the folder named is skipped (``"outside the evidence folder"``); another
    relative link to a file outside the collection is read under the link's path.
    Symbolic and hard links inside tar archives, and symbolic links stored in zip archives,
    follow the same rules within their archive. A small regular file named ``current`` whose
    content is a file name (what a symlink becomes after a copy by a tool that cannot store
    links) is treated as a link too.

Duplicates
    The same file reached twice (same device and inode, the same archive member) is read once
    (skipped ``"same file as ..."``). Two collected files with the same trail name are compared
    byte for byte (decompressed): identical content is read once (``"same content as ..."``),
    and when one is a prefix of the other (a ``not_terminated`` trail copied twice while it
    grew) only the longer one is read (``"earlier copy of ..."``). A regular file named
    ``current`` holding trail bytes (a link dereferenced by ``cp -rL``, zip or a FAT copy) is
    compared with the trails beside it the same way. Content is hashed once per file
    (:mod:`~forensics.collection.dedupe`), so many same-named copies cost linear time.

Order
    By the start time in the name; files whose name carries no time come last, by name; ties
    are broken by name and then by path. The order is time, not an accident of naming.

Reading
    :meth:`TrailFile.read` returns ``(content, damage)``: the decompressed bytes up to the
    first damage and a list of :class:`ReadDamage` ``(offset, length, reason)`` rows (empty
    when the content is whole); it never raises for damaged data. :meth:`TrailFile.read_bytes`
    returns the whole content or raises :class:`TrailReadError` (a :class:`CollectionError`)
    whose ``partial`` attribute holds the bytes recovered before the damage;
    :meth:`TrailFile.open` is a streaming reader. Output is produced in bounded chunks and no
    trail gives more than :data:`MAX_TRAIL_BYTES` (beyond it: a ``"size limit"`` damage row);
    an archive member's size is checked against what is actually read. Reading a tar member
    re-opens the archive; an idle reader positioned in the archive is kept so that reading
    members in archive order streams the archive only once (:func:`read_all` reads a list of
    files in that order).
"""

from __future__ import annotations

from ..errors import CollectionError
from .collect import collect, read_all
from .files import MAX_TRAIL_BYTES, ReadDamage, Skipped, TrailFile
from .names import KINDS, in_window, parse_name
from .streams import READ_DAMAGE_REASONS, TrailReadError

__all__ = [
    "TrailFile",
    "Skipped",
    "ReadDamage",
    "CollectionError",
    "TrailReadError",
    "collect",
    "in_window",
    "parse_name",
    "read_all",
    "KINDS",
    "MAX_TRAIL_BYTES",
    "READ_DAMAGE_REASONS",
]
