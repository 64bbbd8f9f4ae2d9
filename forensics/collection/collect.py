"""Walking what the responder hands us: files, folders like ``/var/audit``, archives, links.

:func:`collect` turns paths into the trails to read (in time order) and the things found but
not read (with the reason). The rules are those of :mod:`forensics.collection.trails`.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from typing import Iterable, Iterator

from ..errors import CollectionError
from .dedupe import drop_duplicates
from .files import FsSource, ReadDamage, Skipped, TrailFile, TrailReadError, open_regular
from .members import ArchiveLister, Found, PendingLink
from .names import (archive_kind_by_name, is_hidden, name_skip_reason, parse_name,
                    strip_compression_suffix)
from .sniff import archive_kind_by_content, looks_like_bsm, text_link_target
from .streams import probe

__all__ = ["collect", "read_all", "trail_of"]


def collect(*paths: str | os.PathLike) -> tuple[list[TrailFile], list[Skipped]]:
    """Find the trails in ``paths`` (files, ``/var/audit``-like directories, archives).

    Returns the trails in time order and the things found but not read.
    """
    if not paths:
        raise CollectionError("no trail, directory or archive given")
    c = _Collector()
    for p in paths:
        c.add_path(os.fspath(p))
    return c.finish()


def read_all(
    files: Iterable[TrailFile],
) -> Iterator[tuple[TrailFile, bytes, TrailReadError | None]]:
    """Read many trails in *storage* order (each compressed archive is streamed once).

    Yields ``(trail, content, error)``; on damage ``content`` is what was recovered and
    ``error`` the :class:`TrailReadError`.
    """
    for t in sorted(files, key=storage_order):
        try:
            yield t, t.read_bytes(), None
        except TrailReadError as e:
            yield t, e.partial, e


def storage_order(t: TrailFile) -> tuple:
    src = t._source
    return src.order() if src is not None else (t.path, 0)


def trail_of(c: Found) -> TrailFile:
    """The public face of a found trail."""
    name = strip_compression_suffix(c.name)
    kind, start, end, host = parse_name(name)
    return TrailFile(path=c.display, name=name, kind=kind, name_start=start, name_end=end,
                     compression=c.compression, stored_bytes=c.stored, host=host,
                     _source=c.source)


def _inside(path: str, root: str | None) -> bool:
    return root is None or path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class _Collector(ArchiveLister):
    def __init__(self) -> None:
        self.cands: list[Found] = []
        self.by_key: dict[tuple, Found] = {}
        self.skipped: list[Skipped] = []
        self.skip_reason_by_key: dict[tuple, str] = {}
        self.links: list[PendingLink] = []
        self.archives: dict[tuple, str] = {}
        self.dirs_seen: set[tuple] = set()
        self._pending_member_links: list[tuple[str, str, str, list[str]]] = []
        self._root: str | None = None  # the evidence folder being walked (its real path)

    # ----- bookkeeping

    def skip(self, path: str, reason: str, key: tuple | None = None, *,
             damage: ReadDamage | None = None) -> None:
        self.skipped.append(Skipped(path, reason, damage))
        if key is not None:
            self.skip_reason_by_key.setdefault(key, reason)

    def add(self, cand: Found, *, via_link: bool = False) -> None:
        prior = self.by_key.get(cand.key)
        if prior is not None:
            what = "link to" if via_link else "same file as"
            self.skip(cand.display, f"{what} {prior.display}")
            return
        self.by_key[cand.key] = cand
        self.cands.append(cand)

    # ----- entry points

    def add_path(self, p: str) -> None:
        if p == "":
            raise CollectionError("empty path given")
        try:
            lst = os.lstat(p)
        except FileNotFoundError:
            raise CollectionError(f"{p}: no such file or directory") from None
        except OSError as e:
            raise CollectionError(f"{p}: cannot access ({e.strerror or e})") from None
        self._root = None
        if stat.S_ISLNK(lst.st_mode):
            self._fs_link(p, p, explicit=True)
        elif stat.S_ISDIR(lst.st_mode):
            self._root = os.path.realpath(p)
            self._walk(p, lst, explicit=True)
        elif stat.S_ISREG(lst.st_mode):
            self._fs_file(p, p, lst, explicit=True)
        else:
            raise CollectionError(f"{p}: not a regular file or directory")

    def finish(self) -> tuple[list[TrailFile], list[Skipped]]:
        i = 0
        while i < len(self.links):  # following a link may find more links (archives)
            ln = self.links[i]
            i += 1
            if ln.key is not None and ln.key in self.by_key:
                self.skip(ln.display, f"link to {self.by_key[ln.key].display}")
            elif ln.follow is not None:
                ln.follow()
            else:
                self.skip(ln.display, ln.reason)
        self.cands = drop_duplicates(self.cands, self.skip, trail_of)
        files = [trail_of(c) for c in self.cands]
        far = datetime.max.replace(tzinfo=timezone.utc)
        files.sort(key=lambda t: (t.name_start is None, t.name_start or far, t.name, t.path))
        return files, self.skipped

    # ----- filesystem

    def _walk(self, top: str, st: os.stat_result, explicit: bool) -> None:
        dkey = (st.st_dev, st.st_ino)
        if dkey in self.dirs_seen:
            return
        self.dirs_seen.add(dkey)
        try:
            with os.scandir(top) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            msg = f"cannot list directory ({e.strerror or e})"
            if explicit:
                raise CollectionError(f"{top}: {msg}") from None
            self.skip(top, msg)
            return
        for e in entries:
            self._entry(os.path.join(top, e.name), e)

    def _entry(self, disp: str, e: os.DirEntry) -> None:
        try:
            if e.is_symlink():
                if is_hidden(e.name):
                    self.skip(disp, "hidden file")
                else:
                    self._fs_link(disp, e.path, explicit=False)
            elif e.is_dir(follow_symlinks=False):
                if is_hidden(e.name):
                    self.skip(disp, "hidden directory")
                else:
                    self._walk(disp, e.stat(follow_symlinks=False), explicit=False)
            elif e.is_file(follow_symlinks=False):
                self._fs_file(disp, e.path, e.stat(follow_symlinks=False), explicit=False)
            else:
                self.skip(disp, "not a regular file")
        except OSError as err:
            self.skip(disp, f"unreadable ({err.strerror or err})")

    def _fs_file(self, disp: str, path: str, st: os.stat_result, *, explicit: bool,
                 via_link: bool = False, link_disp: str | None = None) -> None:
        name = os.path.basename(path)
        key = ("fs", st.st_dev, st.st_ino)
        shown = link_disp or disp
        if via_link and key in self.by_key:
            self.skip(shown, f"link to {self.by_key[key].display}")
            return
        if not explicit:
            reason = name_skip_reason(name)
            if reason:
                self._skip_fs(shown, reason, key, via_link, path)
                return
        try:
            with open_regular(path) as f:
                found = probe(f, disp)
        except OSError as e:
            if explicit:
                raise CollectionError(f"{disp}: cannot read ({e.strerror or e})") from None
            self._skip_fs(shown, f"unreadable ({e.strerror or e})", key, via_link, path)
            return
        kind, *_ = parse_name(strip_compression_suffix(name))
        if kind == "other":
            akind = archive_kind_by_content(found.compression, found.head)
            if akind is None and not looks_like_bsm(found.head):
                akind = archive_kind_by_name(name)
            if akind is not None:
                self._archive(shown, path, st, akind, found.compression, explicit=explicit)
                return
            target = text_link_target(name, st.st_size, found.head)
            if target is not None and not via_link:
                self._fs_link(disp, path, explicit=explicit, text_target=target)
                return
            if not explicit:
                reason = self._content_skip_reason(st.st_size, found)
                if reason:
                    self._skip_fs(shown, reason, key, via_link, path)
                    return
        folder = os.path.dirname(os.path.abspath(link_disp or path))
        self.add(Found(shown, key, name, found.compression, st.st_size, FsSource(path),
                       found.head, folder), via_link=via_link)

    def _skip_fs(self, shown: str, reason: str, key: tuple, via_link: bool, path: str) -> None:
        if via_link:
            self.skip(shown, f"link to {path} ({reason})", key)
        else:
            self.skip(shown, reason, key)

    def _fs_link(self, disp: str, path: str, *, explicit: bool,
                 text_target: str | None = None) -> None:
        """A symbolic link (or a flattened ``current`` text link) found at ``path``."""
        if text_target is None:
            try:
                target = os.readlink(path)
            except OSError as e:
                self.skip(disp, f"unreadable link ({e.strerror or e})")
                return
        else:
            target = text_target
        resolved = self._link_path(disp, path, target, explicit)
        if resolved is None:
            return
        real = os.path.realpath(resolved)
        if not explicit and not _inside(real, self._root):   # never the analyst's own files
            self.skip(disp, f"link to {target}, outside the evidence folder (not followed)")
            return
        self._follow(disp, real, target, explicit, text_target is not None)

    def _link_path(self, disp: str, path: str, target: str, explicit: bool) -> str | None:
        """Where a link leads: an absolute target means the file of that name beside it."""
        here = os.path.dirname(path)
        if not os.path.isabs(target):
            return os.path.join(here, target)
        beside = os.path.join(here, os.path.basename(target))
        if (os.path.basename(target) and os.path.lexists(beside)
                and os.path.abspath(beside) != os.path.abspath(path)):
            return beside
        if explicit:
            return target
        self.skip(disp, f"link to {target}, outside the collection (not followed)")
        return None

    def _follow(self, disp: str, real: str, target: str, explicit: bool, text: bool) -> None:
        try:
            st = os.stat(real)
        except FileNotFoundError:
            if explicit:
                raise CollectionError(f"{disp}: dangling link to {target}") from None
            self.skip(disp, "dangling link")
            return
        except OSError as e:
            if explicit:
                raise CollectionError(f"{disp}: cannot follow link ({e.strerror or e})") from None
            self.skip(disp, f"link to {target}, unreadable ({e.strerror or e})")
            return
        if stat.S_ISDIR(st.st_mode):
            if explicit and not text:
                self._root = real
                self._walk(disp, st, explicit=True)
            else:
                self.skip(disp, f"link to directory {target} (not followed)")
            return
        if not stat.S_ISREG(st.st_mode):
            if explicit:
                raise CollectionError(f"{disp}: link to something that is not a regular file")
            self.skip(disp, "link to something that is not a regular file")
            return
        key = ("fs", st.st_dev, st.st_ino)

        def follow() -> None:
            self._fs_file(real, real, st, explicit=explicit, via_link=True, link_disp=disp)

        self.links.append(PendingLink(disp, key, follow, ""))
