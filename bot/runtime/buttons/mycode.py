"""A deputy's own code (代表码): what a voter who opened it may tap (the deputy's station
instead of theirs, or keep theirs). Prefixes reserved: dc, dcs."""

from __future__ import annotations
