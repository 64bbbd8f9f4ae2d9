"""What the records mean: process lifetimes, attribution, sessions. Frames (and the evidence
tables) in, frames out: no files, no ``Audit``, no module-level caches.

``order`` (the global record order, a value the callers pass on), ``vocab`` (event numbers by
meaning), ``people`` (uid names), ``processes`` (lifetimes), ``helpers`` (the person and the
responsible process of a life, launchd helpers' clients), ``attribution`` (events: who did
each record) and ``sessions`` (logins, logouts, audit sessions, authentications)."""
