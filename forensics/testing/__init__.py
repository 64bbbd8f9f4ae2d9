"""The project's own evidence: named scenario trails and the demo /var/audit folder, written by
the trail writer (``python -m forensics.testing tests/fixtures`` regenerates tests/fixtures)."""
