"""BSM itself: the token table, both decoders (pure Python and the C core), the backend choice,
the trail writer and praudit's rendering. Imports only the core modules.

``tokens`` (every token's layout and id, by name), ``framing`` / ``tokenwalk`` / ``rows`` (the
pure-Python decoder's steps) driven by ``decode``, ``cdecode`` + ``csrc/`` (the C core, the same
steps), ``backends`` (the one place a backend is chosen), ``writer`` (trails from Python
values), ``praudit/`` (OpenBSM praudit's output).
"""
