"""Buttons of /privacy, /mydata and /forget. Filled in by issue 11."""

from __future__ import annotations
