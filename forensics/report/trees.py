"""Process trees per session: each life once, with its images (``xpcproxy → Service`` is one
life with two images), its person and how it ended; a reused pid shows as two nodes, each with
its own ``proc_id``. Capped per session and in the number of sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .cells import basename, person, time_text

__all__ = ["Node", "Tree", "build", "MAX_TREES", "MAX_NODES"]

MAX_TREES = 12       # sessions with a tree
MAX_NODES = 300      # lives per tree


@dataclass
class Node:
    proc_id: str
    pid: int
    images: str          # basenames joined by " → "
    argv: str
    person: str
    start: str
    end: str
    children: list["Node"] = field(default_factory=list)


@dataclass
class Tree:
    session: int
    person: str
    roots: list[Node]
    total: int           # lives in the session
    shown: int


def build(ctx) -> list[Tree]:
    procs = ctx.audit.processes
    if procs.is_empty():
        return []
    lives = procs.lazy().filter(pl.col("asid").is_not_null())
    names = ctx.user_names(procs.get_column("user").unique().to_list())
    per = (lives.group_by("asid").agg(pl.len().alias("n"),
                                      pl.col("user").drop_nulls().mode().first().alias("user"),
                                      pl.col("first_seq").min().alias("seq"))
           .sort(pl.col("user").is_null(), "seq").head(MAX_TREES).collect())
    forest = []
    for asid, total, user, _seq in per.rows():
        label = (f"{names[user]} ({user})" if user in names else
                 f"uid {user}" if user is not None else "no person")
        nodes = (lives.filter(pl.col("asid") == asid).sort("first_seq").head(MAX_NODES)
                 .with_columns(pl.col("user").replace_strict(
                     names, default=None, return_dtype=pl.String).alias("user_name"))
                 .select("proc_id", "parent_proc_id", "pid",
                         pl.col("images").list.eval(basename(pl.element())).list.join(" → ")
                         .fill_null("(image unknown)"),
                         pl.col("argv").list.join(" ").fill_null(""), person(),
                         time_text(pl.coalesce("start", "first_seen")).fill_null("?"),
                         pl.when(pl.col("end_evidence") == "exit")
                         .then(pl.format("exit {}", pl.col("exit_status").cast(pl.String)
                                         .fill_null("?")))
                         .otherwise(pl.col("end_evidence").fill_null("")))
                 .collect())
        forest.append(Tree(asid, label, _link(nodes.rows()), total, nodes.height))
    return forest


def _link(rows: list[tuple]) -> list[Node]:
    """Parent/child links inside the shown set; a life whose parent is not in it is a root."""
    nodes = {}
    parents = {}
    for proc_id, parent, pid, images, argv, who, start, end in rows:
        nodes[proc_id] = Node(proc_id, pid, images, argv, who, start, end)
        parents[proc_id] = parent
    roots = []
    for proc_id, node in nodes.items():
        up = parents[proc_id]
        if up in nodes and up != proc_id:
            nodes[up].children.append(node)
        else:
            roots.append(node)
    return roots
