"""Process trees per session: each life once, with its images (``xpcproxy → Service`` is one
life with two images), its person and how it ended; a reused pid shows as two nodes, each with
its own ``proc_id``. Capped per session and in the number of sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ..schema import UNSET
from .cells import basename, person, time_text

__all__ = ["Node", "Tree", "build", "MAX_TREES", "MAX_NODES", "FOLD_ABOVE"]

MAX_TREES = 12       # sessions with a tree
MAX_NODES = 300      # lives per tree
FOLD_ABOVE = 20      # lives in a tree (roots) above which only its top level (none) opens


@dataclass
class Node:
    proc_id: str
    pid: int
    images: str          # basenames joined by " → "; the signing id when no image is known
    argv: str
    person: str
    start: str
    end: str
    children: list["Node"] = field(default_factory=list)
    reused: bool = False  # another life of the session has the same pid: show the proc_id


@dataclass
class Tree:
    session: int
    person: str          # the session's direct owner (auid of its lives), or "no person"
    roots: list[Node]
    total: int           # lives in the session
    shown: int
    inferred: str = ""   # people some of its lives are attributed to by inference

    @property
    def open_nodes(self) -> bool:
        """Small trees open whole."""
        return self.shown <= FOLD_ABOVE

    @property
    def open_roots(self) -> bool:
        """Larger trees open their top level only, and only when it is short."""
        return len(self.roots) <= FOLD_ABOVE


def build(ctx) -> list[Tree]:
    procs = ctx.audit.processes
    if procs.is_empty():
        return []
    lives = procs.lazy().filter(pl.col("asid").is_not_null())
    names = ctx.user_names(set(procs.get_column("user").unique().to_list())
                           | set(procs.get_column("auid").unique().to_list()))
    auid = pl.col("auid")
    inferred = pl.col("user_kind") == "inferred"
    per = (lives.group_by("asid").agg(
        pl.len().alias("n"),
        auid.filter(auid.is_not_null() & (auid != UNSET)).mode().min().alias("owner"),
        pl.col("user").filter(inferred).alias("inferred"),
        pl.col("first_seq").min().alias("seq"))
           .sort(pl.col("owner").is_null(), "seq").head(MAX_TREES).collect())
    forest = []
    for asid, total, owner, others, _seq in per.rows():
        label = _who(owner, names) if owner is not None else "no person"
        nodes = (lives.filter(pl.col("asid") == asid).sort("first_seq").head(MAX_NODES)
                 .with_columns(pl.col("user").replace_strict(
                     names, default=None, return_dtype=pl.String).alias("user_name"))
                 .select("proc_id", "parent_proc_id", "pid", _images(),
                         pl.col("argv").list.join(" ").fill_null(""), person(),
                         time_text(pl.coalesce("start", "first_seen")).fill_null("?"),
                         pl.when(pl.col("end_evidence") == "exit")
                         .then(pl.format("exit {}", pl.col("exit_status").cast(pl.String)
                                         .fill_null("?")))
                         .otherwise(pl.col("end_evidence").fill_null("")))
                 .collect())
        forest.append(Tree(asid, label, _link(nodes.rows()), total, nodes.height,
                           _inferred(others, names)))
    return forest


def _who(user: int, names: dict[int, str]) -> str:
    return f"{names[user]} ({user})" if user in names else f"uid {user}"


def _inferred(users: list, names: dict[int, str]) -> str:
    """``alice (501): 2 processes`` for the lives attributed by inference."""
    counts: dict[int, int] = {}
    for u in users:
        if u is not None:
            counts[u] = counts.get(u, 0) + 1
    return "; ".join(f"{_who(u, names)}: {n:,} process{'es' * (n != 1)}"
                     for u, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _images() -> pl.Expr:
    """The life's programs (``xpcproxy → DesktopServicesHelper``); without an exec in the
    trail, the signing id of its identity token, marked as such."""
    images = pl.col("images").list.eval(basename(pl.element())).list.join(" → ").replace("", None)
    signing = pl.format("{} (signing id)", pl.col("signing_id").replace("", None))
    return pl.coalesce(images, signing, pl.lit("(image unknown)"))


def _link(rows: list[tuple]) -> list[Node]:
    """Parent/child links inside the shown set; a life whose parent is not in it is a root.
    A pid that more than one shown life holds is marked ``reused``."""
    nodes = {}
    parents = {}
    pids: dict[int, int] = {}
    for proc_id, parent, pid, images, argv, who, start, end in rows:
        nodes[proc_id] = Node(proc_id, pid, images, argv, who, start, end)
        parents[proc_id] = parent
        pids[pid] = pids.get(pid, 0) + 1
    roots = []
    for proc_id, node in nodes.items():
        node.reused = pids[node.pid] > 1
        up = parents[proc_id]
        if up in nodes and up != proc_id:
            nodes[up].children.append(node)
        else:
            roots.append(node)
    return roots
