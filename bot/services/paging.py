"""A page of a longer list, as every paged keyboard shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int


def clamp_page(page: int, total: int, per_page: int) -> tuple[int, int]:
    """The page number brought within range, and how many pages there are."""
    pages = max(1, math.ceil(total / per_page))
    return min(max(page, 0), pages - 1), pages
