"""Finding, opening and selecting trails: folders like /var/audit, trail names, archives and
compressed files read in place, time words, and auditreduce's selection as Polars expressions."""
