"""Finding, opening and selecting trails: folders like /var/audit, trail names, archives and
compressed files read in place, time words, and auditreduce's selection as Polars expressions.

``trails`` is the public face of finding and reading (``collect``, ``TrailFile``, ``in_window``);
behind it: ``names`` (what a name says), ``sniff`` (what the first bytes say), ``streams``
(bounded decompression and member readers), ``files`` (``TrailFile``, ``Skipped``, read damage
as data), ``archives`` (tar and zip members read in place), ``members`` (listing an archive),
``collect`` (walking paths and links), ``dedupe`` (one copy of each content). ``timewords`` reads
``--since/--until``; ``selection`` (with ``resolve`` and ``patterns``) is auditreduce's selection.
"""
