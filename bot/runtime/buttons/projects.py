"""Buttons of /projects (prefixes jp…)."""

from __future__ import annotations
