"""The project's own evidence, written by the trail writer: the story builder (``story``), the
scenes it tells (``scenes``), the named scenario trails (``scenarios``), the demo /var/audit
folder (``demo``) and hostile inputs for the robustness suite (``hostile``).
``python -m forensics.testing`` regenerates tests/fixtures."""
