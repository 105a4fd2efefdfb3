"""Writes that stand or fall together: a transaction (a savepoint inside another one), and the
error a write breaking a unique constraint raises."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError as DuplicateRow
from tortoise.transactions import in_transaction as atomic

__all__ = ["DuplicateRow", "atomic"]
