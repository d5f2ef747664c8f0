"""The guard: protected characteristics and their proxies never reach the fit.

Culture fit here means communication-style competence against customer need, never who a
person is. `split_protected` sets protected columns aside (for the fairness audit only);
`assert_no_protected` is called by `fit_matrix` on every input so a protected column, or a
style dimension named after one, raises `ProtectedAttributeError` instead of being scored.

Matching is on normalised names: lower case, camelCase split, spaces and dashes turned
into underscores. A column is protected when its normalised name equals a protected
token (``Date of Birth`` -> ``date_of_birth``) or contains one as a whole run of
underscore-separated words (``agent_race``, ``race_ethnicity``, ``customer_zip_code``).
``agent_id`` is never protected ("age" is not a word of it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from profiles.errors import ProtectedAttributeError

# The same defaults as site.toml [culture] protected_attributes: characteristics and proxies.
DEFAULT_PROTECTED: tuple[str, ...] = (
    "age", "date_of_birth", "birth_date", "dob", "sex", "gender", "race", "ethnicity",
    "national_origin", "nationality", "citizenship", "religion", "disability", "pregnancy",
    "marital_status", "sexual_orientation", "union_membership", "veteran_status",
    "name", "first_name", "last_name", "full_name", "photo", "photo_url", "postcode",
    "zip", "zip_code", "postal_code", "birthplace", "place_of_birth", "accent", "accent_rating",
    "pronoun", "pronouns", "birth_year", "year_of_birth", "gender_identity", "pregnant", "maternity", "paternity",
    "colour", "color", "skin_colour", "skin_color", "genetic", "genetic_information", "caste", "creed",
)

KEY_COLUMN = "agent_id"


def normalise(name: str) -> str:
    """`Date-Of Birth` -> `date_of_birth`; `dateOfBirth` -> `date_of_birth`."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    text = re.sub(r"[\s\-.]+", "_", text.lower())
    return re.sub(r"_+", "_", text).strip("_")


def is_protected(name: str, protected: Iterable[str] = DEFAULT_PROTECTED) -> bool:
    """True when `name` equals or contains (as whole words) a protected token."""
    words = normalise(name).split("_")
    if normalise(name) == KEY_COLUMN:
        return False
    for token in protected:
        tw = normalise(token).split("_")
        if not tw or tw == [""]:
            continue
        n = len(tw)
        if any(words[i : i + n] == tw for i in range(len(words) - n + 1)):
            return True
    return False


def protected_columns(columns: Iterable[str], protected: Iterable[str] = DEFAULT_PROTECTED) -> list[str]:
    """The given names that are protected, in their original order and spelling."""
    protected = tuple(protected)
    return [c for c in columns if is_protected(c, protected)]


def split_protected(
    frame: pl.DataFrame, protected: Iterable[str] = DEFAULT_PROTECTED
) -> tuple[pl.DataFrame, pl.DataFrame | None, list[str]]:
    """Split `frame` into (clean frame, audit frame, protected columns found).

    The audit frame holds `agent_id` (when present) and the protected columns renamed to
    their normalised names; it is None when nothing was found. Use it for the fairness
    audit only.
    """
    found = protected_columns(frame.columns, protected)
    if not found:
        return frame, None, []
    keep_key = [KEY_COLUMN] if KEY_COLUMN in frame.columns else []
    audit = frame.select(*keep_key, *found).rename({c: normalise(c) for c in found if normalise(c) != c})
    return frame.drop(found), audit, found


def assert_no_protected(
    frame: pl.DataFrame | None,
    table: str,
    protected: Iterable[str] = DEFAULT_PROTECTED,
    *,
    names: Iterable[str] = (),
) -> None:
    """Raise `ProtectedAttributeError` if a column of `frame` or any of `names` is protected.

    `names` covers values that act as inputs, such as culture dimension names.
    """
    protected = tuple(protected)
    found = protected_columns(frame.columns, protected) if frame is not None else []
    found += [n for n in names if is_protected(n, protected) and n not in found]
    if found:
        raise ProtectedAttributeError(table, found)
