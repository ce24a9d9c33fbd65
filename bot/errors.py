"""Domain errors carry a message id and its parameters; handlers translate and show them."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A rule said no. `key` is a message id in the catalogs; `params` fill its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class AccessDenied(DomainError):
    """The actor may not do this; always logged by the handler layer."""

    def __init__(self, key: str = "error.forbidden", **params: object) -> None:
        super().__init__(key, **params)


def present(value: T | None, what: str) -> T:
    """`value`, which the caller's own transaction just wrote or checked; its absence is a
    broken invariant, raised as such (an assert would vanish under python -O)."""
    if value is None:
        raise RuntimeError(f"{what} is missing where it cannot be")
    return value
