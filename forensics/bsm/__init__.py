"""BSM itself: the token table, both decoders (pure Python and the C core), the backend choice,
the trail writer and praudit's rendering. Imports only the core modules."""
