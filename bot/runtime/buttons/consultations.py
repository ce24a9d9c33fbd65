"""Buttons of reading and commenting on a draft (prefixes kr…)."""

from __future__ import annotations
