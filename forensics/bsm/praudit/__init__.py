"""``knox-report praudit``: OpenBSM praudit's output, byte for byte, without its data loss.

The renderer reproduces upstream praudit (OpenBSM 1.2-alpha6) for every mode it has: the
default one-token-per-line form, ``-l`` (one record per line, each token followed by the
delimiter), ``-n`` (numeric uids/gids), ``-r`` (everything numeric), ``-s`` (event short
names), ``-d DELIM`` and ``-x`` (XML), in any combination. Parsing is not done here: records
come from :func:`forensics.bsm.decode.frame` and tokens from :func:`forensics.bsm.decode.walk`,
both driven by the token table in :mod:`forensics.bsm.tokens`. Output is bytes: strings from the
trail are written as the bytes they are (praudit prints them with ``%s``).

The package, by job: ``render`` (the :class:`Renderer`: framing, records, damage reports),
``text_forms`` and ``xml_forms`` (each token's fields / element), ``values`` (praudit's number,
address and return-status formats), ``escape`` (XML escaping), ``clock`` (ctime in a zone).

Where praudit loses data, knox-report prints more, and says so on stderr (never in the record
stream on stdout):

* **Damage between records.** praudit stops reading a file at the first byte that is not a
  record or a file token. knox-report resyncs (``decode.frame``), prints every good record
  after the damage and writes one line per skipped span to stderr::

      knox-report: FILE: skipped N bytes at offset O: REASON

  A damaged span that is exactly one header-framed record whose only fault is its trailer
  (missing, or size below the minimum, e.g. a bare header token) is printed as far as its
  tokens parse, the way praudit prints it, and reported on stderr too.
* **Apple tokens.** upstream cannot parse 0xED/0xEE/0xEF and swallows the rest of the record
  as ``unknown``. knox-report prints them, and every token after them:

  - identity (0xED): ``identity,<signer type>,<signing id>,complete|truncated,<team id>,
    complete|truncated,0x<cdhash hex>`` (``-r`` prints 237 as the label; an empty cdhash prints
    as nothing, like praudit's other empty hex fields). XML: ``<identity signer-type=".."
    signing-id=".." signing-id-truncated="no|yes" team-id=".." team-id-truncated="no|yes"
    cdhash="0x.." />`` (the form Apple's praudit prints).
  - krb5_principal (0xEE) and cert_hash (0xEF) are a count and NUL-terminated strings like
    exec_args, and print the same way: the label (``krb5_principal`` / ``cert_hash``, Apple's
    AUT_ names; ``-r``: 238 / 239) followed by each string; XML ``<krb5_principal><principal>
    ..</principal></krb5_principal>`` and ``<cert_hash><hash>..</hash></cert_hash>``.
* **Unknown token ids** print as upstream does (``unknown,0x<hex of the bytes after the id up
  to the trailer>``; ``-r`` prints the id instead of ``unknown``), and the record's trailer
  follows. In XML (where upstream prints an empty line) they print as ``<unknown id="N"
  data="0x.." />``. A known token that does not fit its layout is shown the same way instead
  of cutting the record short. Both are reported on stderr.
  The stderr line is ``knox-report: FILE: record at offset R: unknown token id 0xNN at offset
  O; N bytes after it printed as unknown``.
* **newgroups** prints every gid (upstream clamps the count to 16); exec_args/exec_env print
  every string (upstream keeps 128). A data (arbitrary) token with an unknown how-to-print
  code prints the code's number and its items in hex (upstream prints nothing after
  ``arbitrary,``).
* **XML is well-formed.** Every string is escaped the way praudit already escapes exec_args:
  ``& < > " '`` become entities and other bytes go through ``vis(3)`` (C style, so a control
  byte 0x01 is ``\\^A``, byte 0xe9 is ``\\M-i``, a backslash is doubled); in attribute values tab
  and newline are escaped as ``\\t``/``\\n`` too, since XML parsers would fold them into spaces.
  header32_ex prints the ``<record ...>`` element like header64_ex (and ``-r`` prints it in the
  comma form); ``group`` holds all its ``gid`` elements; ``IPC``, ``privilege`` (privset),
  ``use_of_privilege`` (upriv), ``arg_uuid`` and ``ret_uuid`` get proper elements; a record
  whose trailer is missing is still closed with ``</record>``.
* **Exec strings cut by the kernel.** exec_args/exec_env are printed as the decoder cuts them
  (``forensics.bsm.tokenwalk``); when another cut would give the record another subject, the
  record is printed with the first clean cut and stderr says so: ``knox-report: FILE: record at
  offset R: the exec strings at offset O can be cut more than one way ...``.
* **return** failure texts are the BSD/macOS wording (``tables.bsm_errno``), as praudit prints
  on macOS. A BSM errno with no local errno on macOS (EDOOFUS, the Linux- and Solaris-only
  ones: ``values.NO_MACOS_ERRNO``) or unknown to libbsm prints ``failure: Unknown error: N``
  (no space before the colon), as praudit does when ``au_bsm_to_errno`` fails.

Not changed: tid in XML is ``"<port> <addr>"`` for subject32 and ``"<port><addr>"`` for the
other subject/process forms, the socket_ex XML attribute order, ``port=""`` in socket-unix.

Times are ``ctime`` in local time (the ``tz`` argument, else the ``TZ`` environment variable);
a time that cannot be represented prints as its number of seconds.
"""

from __future__ import annotations

from .escape import xml_escape
from .render import Renderer, Summary, render

__all__ = ["render", "Renderer", "Summary", "xml_escape"]
