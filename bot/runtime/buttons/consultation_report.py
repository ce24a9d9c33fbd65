"""Buttons of a consultation's report and feedback (prefixes kq…)."""

from __future__ import annotations
