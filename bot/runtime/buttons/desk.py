"""Buttons of /desk and the claim of a desk opinion. Filled in by issue 11."""

from __future__ import annotations
