"""Buttons of /consult (prefixes ks…)."""

from __future__ import annotations
