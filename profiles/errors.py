"""Typed errors of `profiles`. The CLI turns them into messages and exit codes."""

from __future__ import annotations


class ProfilesError(Exception):
    """Base of every error `profiles` raises on purpose."""


class FitInputError(ProfilesError, ValueError):
    """A fit input table or parameter does not follow docs/contracts.md (names the table and column)."""


class ProtectedAttributeError(ProfilesError):
    """A protected characteristic (or a known proxy) reached a fit input.

    `columns` lists the offending column names (or dimension names) as given.
    """

    def __init__(self, table: str, columns: list[str]):
        self.table = table
        self.columns = list(columns)
        super().__init__(
            f"{table}: protected or proxy attribute(s) {', '.join(columns)} must never be fit inputs; "
            "set them aside for the fairness audit with profiles.split_protected() first"
        )


class CalibrationError(ProfilesError):
    """Outcomes cannot support a calibration (too few rows, no signal, missing columns)."""
