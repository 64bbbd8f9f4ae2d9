"""Listing an archive's members into a collection: which are trails, which are skipped, links.

Members follow the rules of a folder (hidden, configuration and text files are skipped; a
member named like a trail is read; any other is read only when its content starts like BSM).
Archives inside archives are not opened. Symbolic and hard links inside tar archives, and
symbolic links stored in zip archives, are resolved within their archive once every member is
known; a link to a path outside the archive is never followed.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
from dataclasses import dataclass
from typing import BinaryIO, Callable

from ..errors import CollectionError
from .files import ReadDamage, open_regular
from .names import (COMPRESSION_SUFFIXES, archive_kind_by_name, is_hidden, name_skip_reason,
                    parse_name, strip_compression_suffix)
from .sniff import archive_kind_by_content, looks_like_bsm, text_link_target
from .streams import CHUNK, Decompressing, Probe, TrailReadError, probe

__all__ = ["Found", "PendingLink", "ArchiveLister"]

_LINK_MAX = 4096  # a symbolic link stored in a zip is its target path: never more than this


@dataclass
class Found:
    """A trail found, before duplicates are removed."""

    display: str
    key: tuple
    name: str  # base name the trail is named by (a link's target name)
    compression: str | None
    stored: int
    source: object
    head: bytes = b""  # the first decompressed bytes (at most sniff.HEAD)
    folder: object = None  # where it lies: a directory, or (archive, member folder)


@dataclass
class PendingLink:
    display: str
    key: tuple | None  # the target's identity, when known
    follow: Callable[[], None] | None  # read the target when it is not collected otherwise
    reason: str  # why it is skipped when neither applies


#: set by _archive_support(): tarfile, zipfile and the archive sources are imported when the
#: first archive is met (collecting plain trails and folders never needs them)
tarfile = zipfile = TarSource = ZipSource = link_candidates = norm_member = None
_MEMBER_ERRORS: tuple = ()


def _archive_support() -> None:
    global tarfile, zipfile, TarSource, ZipSource, link_candidates, norm_member, _MEMBER_ERRORS
    if _MEMBER_ERRORS:
        return
    import lzma
    import tarfile
    import zipfile
    import zlib

    from .archives import TarSource, ZipSource, link_candidates, norm_member
    _MEMBER_ERRORS = (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error,
                      lzma.LZMAError, NotImplementedError, RuntimeError, CollectionError)


class ArchiveLister:
    """The archive half of the collector (mixed into ``collect._Collector``)."""

    def _archive(self, disp: str, path: str, st: os.stat_result, akind: str,
                 outer: str | None, *, explicit: bool) -> None:
        _archive_support()
        akey = ("fs", st.st_dev, st.st_ino)
        if akey in self.archives:
            self.skip(disp, f"same file as {self.archives[akey]}")
            return
        self.archives[akey] = disp
        try:
            if akind == "zip":
                if outer is not None:
                    raise CollectionError(
                        f"{disp}: a {outer}-compressed zip archive cannot be read in place; "
                        "decompress it first"
                    )
                self._list_zip(disp, path, akey)
            else:
                self._list_tar(disp, path, akey, outer)
        except CollectionError as e:
            if explicit:
                raise
            self.skip(disp, str(e).split(": ", 1)[-1])
        except (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
                ValueError, NotImplementedError) as e:
            msg = f"not a readable {akind} archive ({e})"
            if explicit:
                raise CollectionError(f"{disp}: {msg}") from None
            self.skip(disp, msg)

    def _member(self, adisp: str, mname: str, key: tuple, size: int,
                open_member: Callable[[], BinaryIO], make_source: Callable[[], object]) -> None:
        """Classify one regular archive member and add it or skip it."""
        disp = f"{adisp}!{mname}"
        base = posixpath.basename(mname)
        parts = mname.split("/")
        if any(is_hidden(p) for p in parts[:-1]) or is_hidden(base):
            self.skip(disp, "hidden file", key)
            return
        reason = name_skip_reason(base)
        if reason:
            self.skip(disp, reason, key)
            return
        kind, *_ = parse_name(strip_compression_suffix(base))
        try:
            f = open_member()
            try:
                found = probe(f, disp)
            finally:
                f.close()
        except _MEMBER_ERRORS as e:
            if kind == "other":
                self.skip(disp, f"unreadable member ({e})", key)
                return
            found = Probe(COMPRESSION_SUFFIXES.get(os.path.splitext(base)[1].lower()), b"")
        if kind == "other":
            if archive_kind_by_content(found.compression, found.head) or archive_kind_by_name(base):
                self.skip(disp, "archive inside an archive (not opened; extract it and name "
                          "it directly)", key)
                return
            target = text_link_target(base, size, found.head)
            if target is not None:
                self._pending_member_links.append(
                    (disp, mname, target, link_candidates(mname, target, False))
                )
                return
            reason = self._content_skip_reason(size, found)
            if reason:
                self.skip(disp, reason, key)
                return
        self.add(Found(disp, key, base, found.compression, size, make_source(), found.head,
                       (key[1], posixpath.dirname(mname))))

    def _resolve_member_links(self, adisp: str, members: dict[str, tuple]) -> None:
        """Turn the archive's links into pending links now that all members are known."""
        for disp, mname, target, targets in self._pending_member_links:
            found = None
            for cand in targets:
                hop, seen = cand, {mname}
                while hop in members and members[hop][0] == "link" and hop not in seen:
                    seen.add(hop)
                    nxt = [t for t in members[hop][1] if t in members]
                    if not nxt:
                        break
                    hop = nxt[0]
                if hop in members and members[hop][0] == "file":
                    found = hop
                    break
            if found is None:
                if target.startswith("/"):
                    reason = f"link to {target}, outside the archive (not followed)"
                else:
                    reason = "dangling link"
                self.links.append(PendingLink(disp, None, None, reason))
                continue
            tkey = members[found][1]
            treason = self.skip_reason_by_key.get(tkey)
            why = f"link to {adisp}!{found}" + (f" ({treason})" if treason else " (not read)")
            self.links.append(PendingLink(disp, tkey, None, why))

    def _link_member(self, members: dict, mdisp: str, mname: str, target: str,
                     hard: bool) -> None:
        targets = link_candidates(mname, target, hard)
        members[mname] = ("link", targets)
        if any(is_hidden(p) for p in mname.split("/")):
            self.skip(mdisp, "hidden file")
        else:
            self._pending_member_links.append((mdisp, mname, target, targets))

    def _list_tar(self, disp: str, path: str, akey: tuple, outer: str | None) -> None:
        self._pending_member_links = []
        members: dict[str, tuple] = {}
        with open_regular(path) as f:
            dec = None
            if outer is None:
                stream: BinaryIO = f
                tf = tarfile.open(fileobj=f, mode="r:")
            else:
                dec = Decompressing(f, outer, disp, soft=True)
                stream = io.BufferedReader(dec, CHUNK)
                try:
                    tf = tarfile.open(fileobj=stream, mode="r|")
                except tarfile.TarError:
                    if dec.error is not None:  # damaged before the first header
                        raise dec.error from None
                    raise
            try:
                listed = self._tar_members(tf, disp, path, akey, outer, members)
                if dec is not None and dec.error is not None and listed is not None:
                    self._tar_damaged(disp, listed, dec.error, None)
            finally:
                tf.close()
                if stream is not f:
                    stream.close()
        self._resolve_member_links(disp, members)

    def _tar_damaged(self, disp: str, listed: int, error: BaseException,
                     offset: int | None) -> None:
        if isinstance(error, TrailReadError) and error.offset is not None:
            damage = ReadDamage(error.offset, 0, error.reason)
        else:
            damage = ReadDamage(offset or 0, 0, "damaged archive")
        self.skip(disp, f"archive damaged after member {listed} ({error}); "
                  "the members before the damage are read", damage=damage)

    def _tar_members(self, tf: tarfile.TarFile, disp: str, path: str, akey: tuple,
                     outer: str | None, members: dict) -> int | None:
        """List the members; the count listed, or None when the damage is already noted."""
        index = -1
        while True:
            try:
                ti = tf.next()
            except (tarfile.TarError, OSError, EOFError, CollectionError) as e:
                if index < 0:
                    raise
                cause = getattr(getattr(tf.fileobj, "fileobj", None), "raw", None)
                self._tar_damaged(disp, index + 1, getattr(cause, "error", None) or e,
                                  getattr(tf, "offset", None))
                return None
            if ti is None:
                return index + 1
            index += 1
            mname = norm_member(ti.name)
            key = ("tar", akey, index)
            mdisp = f"{disp}!{mname}"
            if ti.isdir():
                continue
            if ti.issym() or ti.islnk():
                self._link_member(members, mdisp, mname, ti.linkname, ti.islnk())
                continue
            if not ti.isreg():
                self.skip(mdisp, "not a regular file", key)
                continue
            members[mname] = ("file", key)
            offset_data = ti.offset_data if (outer is None and not ti.sparse) else -1

            def open_member(tf=tf, ti=ti) -> BinaryIO:
                fobj = tf.extractfile(ti)
                if fobj is None:  # pragma: no cover - isreg() members always have data
                    raise OSError("no data")
                return fobj

            def make_source(ti=ti, index=index, mdisp=mdisp, od=offset_data):
                return TarSource(path, outer, index, ti.name, ti.size, od, mdisp)

            self._member(disp, mname, key, ti.size, open_member, make_source)

    def _list_zip(self, disp: str, path: str, akey: tuple) -> None:
        self._pending_member_links = []
        members: dict[str, tuple] = {}
        with open_regular(path) as fp, zipfile.ZipFile(fp) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                mname = norm_member(info.filename)
                key = ("zip", akey, info.header_offset)
                mdisp = f"{disp}!{mname}"
                if stat.S_ISLNK(info.external_attr >> 16):
                    try:
                        with zf.open(info) as fh:
                            target = fh.read(_LINK_MAX).decode("utf-8", "surrogateescape")
                    except _MEMBER_ERRORS as e:
                        self.skip(mdisp, f"unreadable link ({e})")
                        continue
                    self._link_member(members, mdisp, mname, target, False)
                    continue
                if info.flag_bits & 0x1:
                    self.skip(mdisp, "encrypted zip member (not read)", key)
                    continue
                members[mname] = ("file", key)

                def open_member(zf=zf, info=info) -> BinaryIO:
                    return zf.open(info)

                def make_source(info=info, mdisp=mdisp):
                    return ZipSource(path, info.filename, info.header_offset, info.file_size,
                                     mdisp)

                self._member(disp, mname, key, info.file_size, open_member, make_source)
        self._resolve_member_links(disp, members)

    @staticmethod
    def _content_skip_reason(size: int, found: Probe) -> str | None:
        if size == 0:
            return "empty file without a trail name"
        if found.error:
            return f"not a trail name, and {found.error.split(': ', 1)[-1]}"
        if not looks_like_bsm(found.head):
            return "not a trail name, and the content does not start like a BSM record"
        return None
