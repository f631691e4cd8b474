"""The gallery's search line, parsed into an ImageQuery for the image index.

Free words are looked for in prompts, model names and tags, and all of them must match. The
last word also matches longer words while it is being typed (no space after it yet), once it has
two letters or one CJK character. ``"a phrase"`` must appear as written, and ``-word``,
``-"a phrase"`` or ``-field:value`` leaves out what matches.
Fields narrow the search (FIELD_HELP lists them). Values may be quoted: ``tag:"red fox"``.

    red fox seed:1234 steps:>20 cfg:<=7.5 model:sdxl rating:>=4 date:2026-11 is:favourite

A token that cannot be read raises ParseError, which names the token, what was wrong and what
is accepted, and carries the token's position for the search line to mark it.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NoReturn

from cmfy_desk.store.image_query import (
    Filter,
    ImageField,
    ImageQuery,
    ImageSource,
    ImageStatus,
    Operator,
    TextTerm,
)

SEED_LIMIT = 2**64
# The shortest word that matches longer words while it is typed.
MIN_PREFIX_LENGTH = 2

# Each field with what it accepts, for error messages and the search line's help.
FIELD_HELP: dict[str, str] = {
    "seed": "a whole number from 0 to 18446744073709551615, for example seed:1234",
    "steps": "a whole number, optionally after <, <=, > or >=, for example steps:>20",
    "cfg": "a number, optionally after <, <=, > or >=, for example cfg:<=7.5",
    "rating": "0 to 5 stars, optionally after <, <=, > or >=, for example rating:>=4",
    "date": (
        "a year, month or day (2026, 2026-11 or 2026-11-24), today or yesterday, optionally "
        "after <, <=, > or >=, or a range such as 2026-11-01..2026-11-24"
    ),
    "size": "WIDTHxHEIGHT in pixels, optionally after <, <=, > or >=, for example size:1024x1024",
    "width": "a whole number of pixels, optionally after <, <=, > or >=, for example width:>=1024",
    "height": "a whole number of pixels, optionally after <, <=, > or >=, for example height:768",
    "model": (
        "part of a model's file name or URL, where case, _, -, . and spaces do not matter, "
        "for example model:sdxl"
    ),
    "sampler": "a sampler name, for example sampler:euler",
    "batch": "a batch number or part of a batch name, for example batch:12 or batch:lighthouse",
    "tag": 'a tag, for example tag:portfolio or tag:"red fox"',
    "is": "favourite, ok, corrupt, unreadable, missing, job or folder, for example is:favourite",
    "connection": "a connection name, for example connection:sandbox",
    "folder": 'a folder path, for example folder:"/home/me/Pictures/renders"',
    "negative": "a word or phrase of the negative prompt, for example negative:blurry",
}
FIELD_ALIASES = {
    "models": "model",
    "tags": "tag",
    "neg": "negative",
    "stars": "rating",
    "day": "date",
}
_IS_VALUES: dict[str, tuple[ImageField, object]] = {
    "favourite": (ImageField.FAVOURITE, True),
    "favorite": (ImageField.FAVOURITE, True),
    "fav": (ImageField.FAVOURITE, True),
    **{status.value: (ImageField.STATUS, status) for status in ImageStatus},
    **{source.value: (ImageField.SOURCE, source) for source in ImageSource},
}
_OPERATORS = (
    (">=", Operator.GE),
    ("<=", Operator.LE),
    (">", Operator.GT),
    ("<", Operator.LT),
    ("=", Operator.EQ),
)
_FIELD_NAME = re.compile(r"[A-Za-z_]+")
_INTEGER = re.compile(r"[0-9]+")
_SIZE = re.compile(r"([0-9]+)\s*[x×X]\s*([0-9]+)")
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")


class ParseError(ValueError):
    """A search token that cannot be read; ``start`` and ``end`` index it in the query text."""

    def __init__(self, message: str, token: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message = message
        self.token = token
        self.start = start
        self.end = end


@dataclass(frozen=True)
class _Token:
    """One token of the query line, with its quotes removed from ``text``."""

    raw: str
    text: str
    start: int
    end: int
    negated: bool
    quoted: bool
    closed: bool


def parse_query(text: str, *, today: date | None = None) -> ImageQuery:
    """Parse a search line into an ImageQuery; raise ParseError for a token it cannot read.

    ``today`` fixes the day that ``date:today`` means (the local date when None). Dates are
    local calendar days.
    """
    tokens = _tokenize(text)
    typing_last_word = bool(text) and not text[-1].isspace()
    terms: list[TextTerm] = []
    filters: list[Filter] = []
    for position, token in enumerate(tokens):
        is_last = typing_last_word and position == len(tokens) - 1
        field, value = _split_field(token)
        if field is None:
            term = _text_term(token.text, token, is_last)
            if term is not None:
                terms.append(term)
            continue
        if field == "negative":
            term = _text_term(value, token, is_last, negative_prompt=True)
            if term is not None:
                terms.append(term)
            continue
        filters.extend(_field_filters(field, value, token, today or date.today()))
    return ImageQuery(terms=tuple(terms), filters=tuple(filters))


def field_names() -> list[str]:
    return list(FIELD_HELP)


# Tokens ---------------------------------------------------------------------------------


def _tokenize(text: str) -> list[_Token]:
    """Split at whitespace outside double quotes. An unclosed quote runs to the end."""
    tokens: list[_Token] = []
    index = 0
    length = len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        start = index
        negated = text[index] == "-" and index + 1 < length and not text[index + 1].isspace()
        if negated:
            index += 1
        pieces: list[str] = []
        quoted = False
        closed = True
        while index < length and not text[index].isspace():
            if text[index] == '"':
                quoted = True
                end_quote = text.find('"', index + 1)
                if end_quote < 0:
                    pieces.append(text[index + 1 :])
                    closed = False
                    index = length
                    break
                pieces.append(text[index + 1 : end_quote])
                index = end_quote + 1
            else:
                pieces.append(text[index])
                index += 1
        tokens.append(
            _Token(text[start:index], "".join(pieces), start, index, negated, quoted, closed)
        )
    return tokens


def _split_field(token: _Token) -> tuple[str | None, str]:
    """Return ``(field, value)`` for a ``field:value`` token, else ``(None, text)``."""
    raw = token.raw[1:] if token.negated else token.raw
    name, colon, _rest = raw.partition(":")
    if not colon or not _FIELD_NAME.fullmatch(name):
        return None, token.text
    field = FIELD_ALIASES.get(name.lower(), name.lower())
    if field not in FIELD_HELP:
        raise ParseError(
            f"Unknown field '{name}' in '{token.raw}'. Fields: {', '.join(FIELD_HELP)}. To "
            f'search for text with a colon, put it in quotes: "{raw}".',
            token.raw,
            token.start,
            token.end,
        )
    # The value is the token's text after the first colon, with quotes removed.
    value = token.text.partition(":")[2]
    if not value.strip():
        _fail(token, field, "has no value")
    return field, value.strip()


def _text_term(
    text: str, token: _Token, is_last: bool, *, negative_prompt: bool = False
) -> TextTerm | None:
    words = text.split()
    # Text without a letter or digit has no words for the full-text index to match.
    if not any(character.isalnum() for character in text):
        return None
    prefix = is_last and not token.negated and (not token.quoted or not token.closed)
    if prefix and not token.quoted and len(text) < MIN_PREFIX_LENGTH and text.isascii():
        # One Latin letter would match most of a library, so the search waits for the next
        # one. A Chinese or Japanese character is often a word of its own and is searched.
        return None
    return TextTerm(
        " ".join(words), prefix=prefix, negated=token.negated, negative_prompt=negative_prompt
    )


# Fields ---------------------------------------------------------------------------------


def _field_filters(field: str, value: str, token: _Token, today: date) -> list[Filter]:
    negated = token.negated
    match field:
        case "seed":
            operator, number = _split_operator(value)
            if operator is not Operator.EQ:
                _fail(token, field, "compares, but a seed matches one exact value")
            seed = _integer(number, token, field)
            if seed >= SEED_LIMIT:
                _fail(token, field, "is larger than any seed")
            return [Filter(ImageField.SEED, Operator.EQ, seed, negated)]
        case "steps" | "width" | "height":
            operator, number = _split_operator(value)
            return [Filter(ImageField(field), operator, _integer(number, token, field), negated)]
        case "rating":
            operator, number = _split_operator(value)
            stars = _integer(number, token, field)
            if stars > 5:
                _fail(token, field, "is more than 5 stars")
            return [Filter(ImageField.RATING, operator, stars, negated)]
        case "cfg":
            operator, number = _split_operator(value)
            return [Filter(ImageField.CFG, operator, _number(number, token, field), negated)]
        case "size":
            operator, size_text = _split_operator(value)
            size = _SIZE.fullmatch(size_text)
            if size is None:
                _fail(token, field, "is not a size")
            width_height = (int(size.group(1)), int(size.group(2)))
            return [Filter(ImageField.SIZE, operator, width_height, negated)]
        case "date":
            return [_date_filter(value, token, today)]
        case "model":
            return [Filter(ImageField.MODEL, Operator.CONTAINS, value, negated)]
        case "sampler" | "connection" | "tag":
            return [Filter(ImageField(field), Operator.EQ, " ".join(value.split()), negated)]
        case "batch":
            if _INTEGER.fullmatch(value):
                return [Filter(ImageField.BATCH, Operator.EQ, int(value), negated)]
            return [Filter(ImageField.BATCH, Operator.CONTAINS, value, negated)]
        case "is":
            known = _IS_VALUES.get(value.lower())
            if known is None:
                _fail(token, field, "is not a known state")
            image_field, is_value = known
            return [Filter(image_field, Operator.EQ, is_value, negated)]
        case "folder":
            folder = os.path.abspath(os.path.expanduser(value))
            return [Filter(ImageField.FOLDER, Operator.EQ, folder, negated)]
    raise AssertionError(f"field {field} has no parser")


def _date_filter(value: str, token: _Token, today: date) -> Filter:
    operator, day_text = _split_operator(value)
    if ".." in day_text:
        if operator is not Operator.EQ:
            _fail(token, "date", "mixes a comparison with a range")
        first, _dots, last = day_text.partition("..")
        start = _date_span(first, token, today)[0]
        end = _date_span(last, token, today)[1]
        if end <= start:
            _fail(token, "date", "is a range that ends before it starts")
        return Filter(ImageField.CREATED_AT, Operator.RANGE, (start, end), token.negated)
    start, end = _date_span(day_text, token, today)
    match operator:
        case Operator.EQ:
            return Filter(ImageField.CREATED_AT, Operator.RANGE, (start, end), token.negated)
        case Operator.GT:
            return Filter(ImageField.CREATED_AT, Operator.GE, end, token.negated)
        case Operator.GE:
            return Filter(ImageField.CREATED_AT, Operator.GE, start, token.negated)
        case Operator.LT:
            return Filter(ImageField.CREATED_AT, Operator.LT, start, token.negated)
        case _:
            return Filter(ImageField.CREATED_AT, Operator.LT, end, token.negated)


def _date_span(text: str, token: _Token, today: date) -> tuple[float, float]:
    """Return the Unix times at which a year, month or day starts and ends, in local time."""
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        day = today if word == "today" else today - timedelta(days=1)
        return _local_time(day), _local_time(day + timedelta(days=1))
    parts = _DATE.fullmatch(word)
    if parts is None:
        _fail(token, "date", f"has '{text}', which is not a date")
    year = int(parts.group(1))
    try:
        if parts.group(3) is not None:
            first = date(year, int(parts.group(2)), int(parts.group(3)))
            following = first + timedelta(days=1)
        elif parts.group(2) is not None:
            first = date(year, int(parts.group(2)), 1)
            following = date(year + first.month // 12, first.month % 12 + 1, 1)
        else:
            first = date(year, 1, 1)
            following = date(year + 1, 1, 1)
    except ValueError:
        _fail(token, "date", f"has '{text}', which is not a calendar date")
    return _local_time(first), _local_time(following)


def _local_time(day: date) -> float:
    return datetime(day.year, day.month, day.day).timestamp()


def _split_operator(value: str) -> tuple[Operator, str]:
    for symbol, operator in _OPERATORS:
        if value.startswith(symbol):
            return operator, value[len(symbol) :].strip()
    return Operator.EQ, value


def _integer(text: str, token: _Token, field: str) -> int:
    if not _INTEGER.fullmatch(text):
        _fail(token, field, "is not a whole number")
    return int(text)


def _number(text: str, token: _Token, field: str) -> float:
    try:
        number = float(text)
    except ValueError:
        _fail(token, field, "is not a number")
    if not math.isfinite(number):
        _fail(token, field, "is not a finite number")
    return number


def _fail(token: _Token, field: str, problem: str) -> NoReturn:
    raise ParseError(
        f"'{token.raw}' {problem}: {field} takes {FIELD_HELP[field]}.",
        token.raw,
        token.start,
        token.end,
    )
