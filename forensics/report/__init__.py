"""What the main job shows: sections built from an ``Audit``'s frames, rendered as text or HTML.
Reads frames only: never bytes, files, ``bsm``, ``collection`` or the pipeline."""
