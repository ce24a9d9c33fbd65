"""Buttons of the secret ballots (prefixes jb…)."""

from __future__ import annotations
