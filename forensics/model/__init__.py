"""What the records mean: process lifetimes, attribution, sessions. Frames (and the evidence
tables) in, frames out: no files, no ``Audit``, no module-level caches."""
