"""The C core's pre-checks for one decode or reduce call: a half-open time window and an
event bitmap, as ``bsm_options`` (shared by ``cdecode`` and ``cselect``; imports no data-frame
library, so ``reduce``'s fast path can use it)."""

from __future__ import annotations

import math
import numbers

from ._cbsm import ffi

__all__ = ["options", "MS_MIN", "MS_MAX"]

MS_MIN, MS_MAX = -(1 << 63), (1 << 63) - 1


def options(since_ms, until_ms, events):
    opts = ffi.new("bsm_options *")
    keep = None
    if since_ms is not None:
        opts.has_since = 1
        # t is an integer: t < s  <=>  t < ceil(s); t is within [0, 2**53), so clamping is exact
        opts.since_ms = min(max(math.ceil(since_ms), MS_MIN), MS_MAX)
    if until_ms is not None:
        opts.has_until = 1
        opts.until_ms = min(max(math.ceil(until_ms), MS_MIN), MS_MAX)
    if events is not None:
        bitmap = bytearray(8192)
        for event in events:
            # the same membership as `event_number in events` in decode.py (5.0 == 5, True == 1)
            if isinstance(event, numbers.Number) and not isinstance(event, complex):
                try:
                    number = int(event)
                except (ValueError, OverflowError, TypeError):
                    continue
                if number == event and 0 <= number <= 0xFFFF:
                    bitmap[number >> 3] |= 1 << (number & 7)
        keep = ffi.from_buffer("uint8_t[]", bitmap)
        opts.events = keep
    return opts, keep
