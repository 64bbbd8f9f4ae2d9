"""Section ``network``: connect, bind, accept and the other network calls, with local and
remote address and port and the result."""

from __future__ import annotations

import polars as pl

from .cells import pick, Table, how_sure, person, program, result, rows_of, time_text
from .structure import SECTIONS, Context, Run, Section

__all__ = ["section"]


def _address(prefix: str) -> pl.Expr:
    addr, port = pl.col(f"{prefix}_address"), pl.col(f"{prefix}_port").cast(pl.String)
    ip6 = addr.str.contains(":")
    return (pl.when(addr.is_null()).then(pl.lit(""))
            .when(port.is_null()).then(addr)
            .when(ip6).then(pl.format("[{}]:{}", addr, port))
            .otherwise(pl.format("{}:{}", addr, port)))


def section(ctx: Context, run: Run) -> Section:
    events = ctx.events_of_class("nt")
    net = ctx.events.lazy().filter(
        pl.col("event").is_in(events)
        | pl.col("remote_address").is_not_null() | pl.col("local_address").is_not_null())
    total = net.select(pl.len()).collect().item()
    shown = pick(net.sort("time"),
        time_text("time"), pl.coalesce(ctx.event_name(), pl.col("event").cast(pl.String)),
        person(), how_sure(), program(), "pid",
        pl.coalesce("socket_family", pl.lit("")), _address("local"),
        pl.coalesce(pl.when(pl.col("remote_address").is_not_null()).then(_address("remote")),
                    pl.col("socket_path"), pl.lit("")),
        result(ctx.errno), "source", "offset")
    rows = [(*r[:-2], ctx.finder.label(r[-2], r[-1])) for r in rows_of(shown)]
    cols = ("time", "call", "person", "how sure", "program", "pid", "family", "local",
            "remote", "result", "record")
    return Section("network", SECTIONS["network"],
                   "Connections, binds and accepts: local and remote address and port, who, "
                   "and the result.",
                   tables=[Table("network", "Network", cols, rows, total,
                                 {"pid": "num", "record": "ref"})])
