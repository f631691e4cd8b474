"""A gallery search as data (ImageQuery and its parts), and the SQL built from it.

outputs/query.py builds an ImageQuery from the text a person types, and Gallery runs it. The
WHERE clause is built here from fixed SQL fragments, and every value of a query is bound as a
parameter, so no text a person types becomes SQL or FTS5 syntax. Tags, batch names and model
names match without regard to case through the SQL function CASEFOLD_FUNCTION. It is Python's
str.casefold, which folds every script, unlike SQLite's ASCII-only lower(), and Gallery
registers it on its connection.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# SQLite integers are signed 64-bit, but ComfyUI seeds go up to 2**64 - 1.
_SEED_WRAP = 2**64
_SIGNED_LIMIT = 2**63
# images.models, images.model_urls and images.tags contain one item per line.
LIST_SEPARATOR = "\n"
# The SQL function that Gallery registers as Python's str.casefold.
CASEFOLD_FUNCTION = "cmfy_casefold"


class ImageStatus(StrEnum):
    OK = "ok"
    CORRUPT = "corrupt"
    UNREADABLE = "unreadable"
    MISSING = "missing"


class ImageSource(StrEnum):
    JOB = "job"
    FOLDER = "folder"


class ImageField(StrEnum):
    """A column (or pair of columns) an ImageQuery filter tests."""

    SEED = "seed"
    STEPS = "steps"
    CFG = "cfg"
    RATING = "rating"
    CREATED_AT = "created_at"
    WIDTH = "width"
    HEIGHT = "height"
    SIZE = "size"
    MODEL = "model"
    SAMPLER = "sampler"
    BATCH = "batch"
    CONNECTION = "connection"
    FOLDER = "folder"
    TAG = "tag"
    FAVOURITE = "favourite"
    STATUS = "status"
    SOURCE = "source"


class Operator(StrEnum):
    """The comparison of a filter. RANGE takes ``(low, high)`` and means low <= x < high."""

    EQ = "="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    CONTAINS = "contains"
    RANGE = "range"


class ImageOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    RATING = "rating"


@dataclass(frozen=True)
class Filter:
    """One condition on an image's columns; ``negated`` keeps the rows it does not match.

    Values by field:

    - SEED: an int, EQ only.
    - STEPS, RATING, WIDTH, HEIGHT: an int; CFG: a float; any comparison.
    - CREATED_AT: a Unix time, or ``(low, high)`` for RANGE.
    - SIZE: ``(width, height)``, each compared with the operator.
    - MODEL: part of a model name or URL, ignoring case, "_", "-", "." and spaces (CONTAINS).
    - SAMPLER, CONNECTION, TAG: a name, matched without regard to case.
    - BATCH: an int id (EQ) or part of the batch name (CONTAINS).
    - FOLDER: a folder path, matching the images in it and its subfolders.
    - FAVOURITE: a bool; STATUS: an ImageStatus; SOURCE: an ImageSource.
    """

    field: ImageField
    operator: Operator
    value: Any
    negated: bool = False


@dataclass(frozen=True)
class TextTerm:
    """A word or phrase for the full-text index.

    It is looked for in the prompt, the model names and the tags, or only in the negative
    prompt when ``negative_prompt`` is set. ``prefix`` matches words that start with the last
    word of ``text``. ``negated`` keeps the images that do not contain it.
    """

    text: str
    prefix: bool = False
    negated: bool = False
    negative_prompt: bool = False


@dataclass(frozen=True)
class ImageQuery:
    """A gallery search: the images that match every term and every filter, in ``order``.

    Images whose file is missing are left out unless a STATUS filter (not negated) requests a
    status.
    """

    terms: tuple[TextTerm, ...] = ()
    filters: tuple[Filter, ...] = ()
    order: ImageOrder = ImageOrder.NEWEST


_COMPARISONS = {
    Operator.EQ: "=",
    Operator.LT: "<",
    Operator.LE: "<=",
    Operator.GT: ">",
    Operator.GE: ">=",
}
_NUMBER_COLUMNS = {
    ImageField.STEPS: "images.steps",
    ImageField.CFG: "images.cfg",
    ImageField.RATING: "images.rating",
    ImageField.WIDTH: "images.width",
    ImageField.HEIGHT: "images.height",
    ImageField.CREATED_AT: "images.created_at",
}
ORDER_BY = {
    ImageOrder.NEWEST: "images.created_at DESC, images.id DESC",
    ImageOrder.OLDEST: "images.created_at, images.id",
    ImageOrder.RATING: "images.rating DESC, images.created_at DESC, images.id DESC",
}
# The columns a free word is looked for in. The negative prompt has a term kind of its own,
# because a word that a person kept out of a picture should not find that picture.
_TEXT_COLUMNS = "{prompt models tags}"
# A model name matches without regard to case, "_", "-", "." and spaces, so that "sdxl" finds
# "sd_xl_base_1.0.safetensors" and "juggernautXL".
_SQUEEZED = (
    f"replace(replace(replace(replace({CASEFOLD_FUNCTION}({{}}), '_', ''), '-', ''), '.', ''),"
    " ' ', '')"
)
_SEPARATORS = re.compile(r"[_\-. ]")
_NEGATIVE_COLUMN = "negative"


def seed_to_column(seed: int) -> int:
    """Map a seed in [0, 2**64) onto SQLite's signed 64-bit integers."""
    return seed - _SEED_WRAP if seed >= _SIGNED_LIMIT else seed


def seed_from_column(value: int) -> int:
    return value + _SEED_WRAP if value < 0 else value


def build_where(
    query: ImageQuery, has_missing: bool, *, drive_by_text: bool
) -> tuple[str, list[Any]]:
    """Return the WHERE clause of ``query`` and its values.

    Unless ``drive_by_text`` is set, the full-text condition is written ``+images.id IN
    (...)``. The unary plus keeps SQLite from walking the list of text matches, which pays
    when that list is long: SQLite then walks an index of a filter, or of the order, and
    probes each row against the matches. ``has_missing`` is whether any row is missing, so
    that leaving missing rows out costs nothing when none is.
    """
    clauses: list[str] = []
    values: list[Any] = []
    rowid = "images.id" if drive_by_text else "+images.id"

    match, excluded = match_expressions(query.terms)
    if match:
        clauses.append(f"{rowid} IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
        values.append(match)
    if excluded:
        clauses.append(f"{rowid} NOT IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
        values.append(excluded)

    for item in query.filters:
        sql, filter_values = _compile_filter(item)
        # "IS NOT 1" also keeps rows where the condition is NULL (a column without a value).
        clauses.append(f"({sql}) IS NOT 1" if item.negated else f"({sql})")
        values.extend(filter_values)

    requests_status = any(
        item.field is ImageField.STATUS and not item.negated for item in query.filters
    )
    if has_missing and not requests_status:
        clauses.append("images.status != ?")
        values.append(ImageStatus.MISSING.value)
    return " AND ".join(clauses) or "1", values


def match_expressions(terms: Sequence[TextTerm]) -> tuple[str, str]:
    """Return FTS5 expressions for the required terms and for the excluded ones.

    Each term becomes an FTS5 string, so its text is never read as FTS5 syntax. Excluded
    terms go into the required expression as NOT when there is one, which FTS5 evaluates
    faster than a second lookup.
    """
    required = [_fts_term(term) for term in terms if not term.negated]
    excluded = [_fts_term(term) for term in terms if term.negated]
    if not required:
        return "", " OR ".join(excluded)
    expression = " AND ".join(required)
    for term in excluded:
        expression = f"({expression}) NOT {term}"
    return expression, ""


def _fts_term(term: TextTerm) -> str:
    quoted = '"' + term.text.replace('"', '""') + '"'
    if term.prefix:
        quoted += " *"
    columns = _NEGATIVE_COLUMN if term.negative_prompt else _TEXT_COLUMNS
    return f"({columns} : {quoted})"


def _compile_filter(item: Filter) -> tuple[str, list[Any]]:
    field, operator, value = item.field, item.operator, item.value
    if field is ImageField.SEED:
        _expect(item, Operator.EQ)
        return "images.seed = ?", [seed_to_column(int(value))]

    if field in _NUMBER_COLUMNS:
        column = _NUMBER_COLUMNS[field]
        if operator is Operator.RANGE:
            low, high = value
            return f"{column} >= ? AND {column} < ?", [low, high]
        return f"{column} {_comparison(item)} ?", [value]

    if field is ImageField.SIZE:
        comparison = _comparison(item)
        width, height = value
        return f"images.width {comparison} ? AND images.height {comparison} ?", [width, height]

    if field is ImageField.MODEL:
        _expect(item, Operator.CONTAINS)
        needle = _SEPARATORS.sub("", str(value).casefold())
        # A value of separators only is looked for as it is.
        column = _SQUEEZED if needle else f"{CASEFOLD_FUNCTION}({{}})"
        return (
            "(images.models, images.model_urls) IN (SELECT models, model_urls"
            " FROM image_model_sets WHERE"
            f" instr({column.format('models')}, ?) > 0"
            f" OR instr({column.format('model_urls')}, ?) > 0)",
            [needle or str(value).casefold()] * 2,
        )

    if field in (ImageField.SAMPLER, ImageField.CONNECTION):
        _expect(item, Operator.EQ)
        # Sampler and connection names are ASCII identifiers, and SQLite's lower() folds ASCII.
        return f"lower(images.{field.value}) = ?", [str(value).lower()]

    if field is ImageField.TAG:
        _expect(item, Operator.EQ)
        wrapped = LIST_SEPARATOR + str(value).casefold() + LIST_SEPARATOR
        # The literal tags != '' lets the partial index images_tagged find tagged rows.
        return (
            "images.tags != ''"
            f" AND instr(char(10) || {CASEFOLD_FUNCTION}(images.tags) || char(10), ?) > 0",
            [wrapped],
        )

    if field is ImageField.BATCH:
        if operator is Operator.EQ:
            return "images.batch_id = ?", [int(value)]
        _expect(item, Operator.CONTAINS)
        return (
            "images.batch_id IN (SELECT id FROM batches"
            f" WHERE instr({CASEFOLD_FUNCTION}(name), ?) > 0)",
            [str(value).casefold()],
        )

    if field is ImageField.FOLDER:
        low, high = path_prefix_range(str(value))
        return "images.path >= ? AND images.path < ?", [low, high]

    if field is ImageField.FAVOURITE:
        _expect(item, Operator.EQ)
        # Literal SQL, so that the partial index images_favourite applies.
        return ("images.favourite = 1" if value else "images.favourite = 0"), []

    if field is ImageField.STATUS:
        _expect(item, Operator.EQ)
        return "images.status = ?", [ImageStatus(value).value]

    if field is ImageField.SOURCE:
        _expect(item, Operator.EQ)
        return "images.source = ?", [ImageSource(value).value]

    raise ValueError(f"Filter on {field} is not supported.")


def _comparison(item: Filter) -> str:
    if item.operator not in _COMPARISONS:
        raise ValueError(f"Filter on {item.field} cannot use {item.operator}.")
    return _COMPARISONS[item.operator]


def _expect(item: Filter, operator: Operator) -> None:
    if item.operator is not operator:
        raise ValueError(f"Filter on {item.field} takes {operator}, not {item.operator}.")


def path_prefix_range(folder: str) -> tuple[str, str]:
    """Return ``(low, high)`` so that low <= path < high holds for paths inside ``folder``.

    The range is a comparison on the path's text, so the UNIQUE index on path serves it.
    """
    prefix = folder.rstrip("/" + os.sep) + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)
