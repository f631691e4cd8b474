"""The gallery's search line: parsing into an ImageQuery and what it finds in a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from cmfy_desk.outputs.query import ParseError, field_names, parse_query
from cmfy_desk.store import (
    Filter,
    Gallery,
    ImageData,
    ImageField,
    ImageOrder,
    ImageQuery,
    ImageSource,
    ImageStatus,
    Operator,
    Store,
    TextTerm,
)

TODAY = date(2026, 11, 24)
SDXL = (
    "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/"
    "sd_xl_base_1.0.safetensors"
)
FLUX = (
    "https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/flux1-schnell.safetensors"
)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute).timestamp()


def only_filter(text: str) -> Filter:
    query = parse_query(text, today=TODAY)
    assert query.terms == ()
    assert len(query.filters) == 1
    return query.filters[0]


# Parsing --------------------------------------------------------------------------------


def test_free_words_become_required_terms() -> None:
    query = parse_query("red fox ", today=TODAY)
    assert query.terms == (TextTerm("red"), TextTerm("fox"))
    assert query.filters == ()


def test_last_word_is_prefix_while_typing() -> None:
    query = parse_query("red fo", today=TODAY)
    assert query.terms == (TextTerm("red"), TextTerm("fo", prefix=True))


def test_one_letter_last_word_waits() -> None:
    assert parse_query("red f", today=TODAY).terms == (TextTerm("red"),)
    assert parse_query("red f ", today=TODAY).terms == (TextTerm("red"), TextTerm("f"))


def test_quoted_phrase_is_one_term() -> None:
    query = parse_query('"red  fox" snow', today=TODAY)
    assert query.terms == (TextTerm("red fox"), TextTerm("snow", prefix=True))


def test_closed_phrase_at_end_is_exact() -> None:
    assert parse_query('"red fox"', today=TODAY).terms == (TextTerm("red fox"),)


def test_unclosed_phrase_is_prefix_phrase() -> None:
    assert parse_query('"red fo', today=TODAY).terms == (TextTerm("red fo", prefix=True),)


def test_minus_excludes_words_phrases_and_fields() -> None:
    query = parse_query('-snow -"red fox" -is:favourite fox', today=TODAY)
    assert query.terms == (
        TextTerm("snow", negated=True),
        TextTerm("red fox", negated=True),
        TextTerm("fox", prefix=True),
    )
    assert query.filters == (Filter(ImageField.FAVOURITE, Operator.EQ, True, negated=True),)


def test_excluded_last_word_is_not_prefix() -> None:
    assert parse_query("fox -sno", today=TODAY).terms[-1] == TextTerm("sno", negated=True)


def test_punctuation_only_tokens_are_ignored() -> None:
    assert parse_query("!! - ... fox ", today=TODAY).terms == (TextTerm("fox"),)


def test_hyphenated_word_is_not_exclusion() -> None:
    assert parse_query("sci-fi ", today=TODAY).terms == (TextTerm("sci-fi"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seed:1234", Filter(ImageField.SEED, Operator.EQ, 1234)),
        ("seed:=18446744073709551615", Filter(ImageField.SEED, Operator.EQ, 2**64 - 1)),
        ("steps:>20", Filter(ImageField.STEPS, Operator.GT, 20)),
        ("steps:30", Filter(ImageField.STEPS, Operator.EQ, 30)),
        ("cfg:<=7.5", Filter(ImageField.CFG, Operator.LE, 7.5)),
        ("cfg:<7", Filter(ImageField.CFG, Operator.LT, 7.0)),
        ("rating:>=4", Filter(ImageField.RATING, Operator.GE, 4)),
        ("stars:0", Filter(ImageField.RATING, Operator.EQ, 0)),
        ("width:>=1024", Filter(ImageField.WIDTH, Operator.GE, 1024)),
        ("height:768", Filter(ImageField.HEIGHT, Operator.EQ, 768)),
        ("size:1024x768", Filter(ImageField.SIZE, Operator.EQ, (1024, 768))),
        ("size:>=1024×1024", Filter(ImageField.SIZE, Operator.GE, (1024, 1024))),
        ("model:SDXL", Filter(ImageField.MODEL, Operator.CONTAINS, "SDXL")),
        ("models:flux", Filter(ImageField.MODEL, Operator.CONTAINS, "flux")),
        ("sampler:euler", Filter(ImageField.SAMPLER, Operator.EQ, "euler")),
        ("batch:12", Filter(ImageField.BATCH, Operator.EQ, 12)),
        ("batch:lighthouse", Filter(ImageField.BATCH, Operator.CONTAINS, "lighthouse")),
        ('batch:"2026-11-24 10"', Filter(ImageField.BATCH, Operator.CONTAINS, "2026-11-24 10")),
        ('tag:"red  fox"', Filter(ImageField.TAG, Operator.EQ, "red fox")),
        ("is:favourite", Filter(ImageField.FAVOURITE, Operator.EQ, True)),
        ("is:Favorite", Filter(ImageField.FAVOURITE, Operator.EQ, True)),
        ("is:missing", Filter(ImageField.STATUS, Operator.EQ, ImageStatus.MISSING)),
        ("is:corrupt", Filter(ImageField.STATUS, Operator.EQ, ImageStatus.CORRUPT)),
        ("is:folder", Filter(ImageField.SOURCE, Operator.EQ, ImageSource.FOLDER)),
        ("connection:sandbox", Filter(ImageField.CONNECTION, Operator.EQ, "sandbox")),
        ("SEED:5", Filter(ImageField.SEED, Operator.EQ, 5)),
    ],
)
def test_field_filters(text: str, expected: Filter) -> None:
    assert only_filter(text) == expected


def test_folder_filter_is_absolute(tmp_path: Path) -> None:
    assert only_filter(f'folder:"{tmp_path}/renders"') == Filter(
        ImageField.FOLDER, Operator.EQ, str(tmp_path / "renders")
    )


def test_negative_field_searches_negative_prompt() -> None:
    query = parse_query("neg:blurry fox negative:wat", today=TODAY)
    assert query.terms == (
        TextTerm("blurry", negative_prompt=True),
        TextTerm("fox"),
        TextTerm("wat", prefix=True, negative_prompt=True),
    )


@pytest.mark.parametrize(
    ("text", "operator", "value"),
    [
        ("date:2026-11", Operator.RANGE, (local(2026, 11, 1), local(2026, 12, 1))),
        ("date:2026-12", Operator.RANGE, (local(2026, 12, 1), local(2027, 1, 1))),
        ("date:2026", Operator.RANGE, (local(2026, 1, 1), local(2027, 1, 1))),
        ("date:2026-11-24", Operator.RANGE, (local(2026, 11, 24), local(2026, 11, 25))),
        ("date:2026-2-3", Operator.RANGE, (local(2026, 2, 3), local(2026, 2, 4))),
        ("date:>2026-11-01", Operator.GE, local(2026, 11, 2)),
        ("date:>=2026-11-01", Operator.GE, local(2026, 11, 1)),
        ("date:<2026-11", Operator.LT, local(2026, 11, 1)),
        ("date:<=2026-11", Operator.LT, local(2026, 12, 1)),
        ("date:today", Operator.RANGE, (local(2026, 11, 24), local(2026, 11, 25))),
        ("day:yesterday", Operator.RANGE, (local(2026, 11, 23), local(2026, 11, 24))),
        (
            "date:2026-11-01..2026-11-24",
            Operator.RANGE,
            (local(2026, 11, 1), local(2026, 11, 25)),
        ),
        ("date:2026-10..2026-11", Operator.RANGE, (local(2026, 10, 1), local(2026, 12, 1))),
    ],
)
def test_date_filters_are_local_days(text: str, operator: Operator, value: object) -> None:
    assert only_filter(text) == Filter(ImageField.CREATED_AT, operator, value)


def test_several_filters_and_words_combine() -> None:
    query = parse_query("red fox seed:1234 steps:>20 model:sdxl is:favourite", today=TODAY)
    assert query.terms == (TextTerm("red"), TextTerm("fox"))
    assert [item.field for item in query.filters] == [
        ImageField.SEED,
        ImageField.STEPS,
        ImageField.MODEL,
        ImageField.FAVOURITE,
    ]


@pytest.mark.parametrize(
    ("text", "token", "words"),
    [
        ("fox colour:red", "colour:red", ["Unknown field 'colour'", "seed, steps", "quotes"]),
        ("masterpiece:1.2", "masterpiece:1.2", ["Unknown field", '"masterpiece:1.2"']),
        ("steps:abc", "steps:abc", ["not a whole number", "steps:>20"]),
        ("steps:2.5", "steps:2.5", ["not a whole number"]),
        ("cfg:high", "cfg:high", ["not a number", "cfg:<=7.5"]),
        ("cfg:nan", "cfg:nan", ["not a finite number"]),
        ("seed:>5", "seed:>5", ["one exact value", "seed:1234"]),
        ("seed:-3", "seed:-3", ["not a whole number"]),
        ("seed:18446744073709551616", "seed:18446744073709551616", ["larger than any seed"]),
        ("rating:6", "rating:6", ["more than 5 stars", "rating:>=4"]),
        ("size:big", "size:big", ["not a size", "1024x1024"]),
        ("date:2026-13", "date:2026-13", ["not a calendar date"]),
        ("date:2026-02-30", "date:2026-02-30", ["not a calendar date"]),
        ("date:last-week", "date:last-week", ["not a date", "today or yesterday"]),
        ("date:2026-11-24..2026-11-01", "date:2026-11-24..2026-11-01", ["ends before"]),
        ("date:>2026..2027", "date:>2026..2027", ["mixes a comparison"]),
        ("is:great", "is:great", ["not a known state", "favourite"]),
        ("seed:", "seed:", ["has no value"]),
        ('tag:""', 'tag:""', ["has no value"]),
    ],
)
def test_bad_tokens_raise_parse_error(text: str, token: str, words: list[str]) -> None:
    with pytest.raises(ParseError) as caught:
        parse_query(text, today=TODAY)
    error = caught.value
    assert error.token == token
    assert text[error.start : error.end] == token
    for word in words:
        assert word in error.message


def test_negated_bad_token_position() -> None:
    with pytest.raises(ParseError) as caught:
        parse_query("fox -steps:many", today=TODAY)
    assert (caught.value.start, caught.value.end) == (4, 15)


def test_every_field_has_help() -> None:
    assert "seed" in field_names()
    assert "negative" in field_names()


# Searching a real database ---------------------------------------------------------------


@pytest.fixture
def gallery(tmp_path: Path) -> Iterator[Gallery]:
    store = Store.open(tmp_path / "db.sqlite3")
    _batch, _jobs = store.add_batch(
        name="lighthouse 2026-11-24 10-00-00",
        workflow_name="wf",
        workflow_path="wf.json",
        connection="cloud",
        seed_mode="fixed",
        output_dir=str(tmp_path),
        jobs=[],
    )
    rows = [
        image(1, "a red fox in the snow", seed=1234, created=local(2026, 11, 24, 9)),
        image(2, "a fox, red sky behind", seed=1234, created=local(2026, 11, 24, 23, 59)),
        image(3, "red lighthouse at dusk", seed=99, created=local(2026, 11, 25, 0, 1), batch=1),
        image(4, "a cat in the snow", seed=2**64 - 1, created=local(2026, 10, 31, 12)),
        image(5, "foxglove flowers", seed=7, created=local(2026, 11, 1), steps=40, cfg=8.0),
        image(6, "Café at night, 狐", seed=8, created=local(2026, 11, 2), sampler="dpmpp_2m"),
    ]
    store.gallery.upsert(rows)
    store.gallery.set_rating([1, 3], 5)
    store.gallery.set_rating([2], 3)
    store.gallery.set_favourite([2, 4], True)
    store.gallery.add_tags([1, 4], ["Portfolio", "red fox"])
    store.gallery.add_tags([6], ["Straße"])
    yield store.gallery
    store.close()


def image(
    number: int,
    prompt: str,
    *,
    seed: int,
    created: float,
    batch: int | None = None,
    steps: int = 20,
    cfg: float = 7.0,
    sampler: str = "euler",
) -> ImageData:
    model = FLUX if number % 2 else SDXL
    return ImageData(
        path=f"/library/image{number}.png",
        source=ImageSource.JOB if batch else ImageSource.FOLDER,
        created_at=created,
        batch_id=batch,
        connection="cloud" if batch else "",
        prompt=prompt,
        negative="blurry, fox" if number == 4 else "blurry",
        seed=seed,
        steps=steps,
        cfg=cfg,
        sampler=sampler,
        width=1024 if number < 4 else 512,
        height=1024 if number < 4 else 768,
        models=(model.rsplit("/", 1)[-1],),
        model_urls=(model,),
    )


def found(gallery: Gallery, text: str) -> list[int]:
    """Return the numbers of the images a search line finds, newest first."""
    query = parse_query(text, today=date(2026, 11, 25))
    records = gallery.search(query)
    assert gallery.count(query) == len(records)
    return [int(Path(record.path).stem.removeprefix("image")) for record in records]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [3, 2, 1, 6, 5, 4]),
        ("red fox ", [2, 1, 4]),
        ('"red fox" ', [1, 4]),
        ("fox", [2, 1, 5, 4]),
        ("fox ", [2, 1, 4]),
        ("fox -snow", [2]),
        ('-"red fox"', [3, 2, 6, 5]),
        ("blurry", []),
        ("neg:blurry ", [3, 2, 1, 6, 5, 4]),
        ("snow -neg:fox ", [1]),
        ("cafe", [6]),
        ("狐", [6]),
        ("seed:1234", [2, 1]),
        ("seed:18446744073709551615", [4]),
        ("-seed:1234", [3, 6, 5, 4]),
        ("steps:>20", [5]),
        ("cfg:>=8", [5]),
        ("cfg:<7.5 steps:20", [3, 2, 1, 6, 4]),
        ("model:flux", [3, 1, 5]),
        ("model:SD_XL", [2, 6, 4]),
        ("model:black-forest", [3, 1, 5]),
        ("model:sdxl", [2, 6, 4]),
        ("model:Flux1 Schnell", [3, 1, 5]),
        ("model:_", [2, 6, 4]),
        ("rating:>=4", [3, 1]),
        ("rating:0", [6, 5, 4]),
        ("rating:<5", [2, 6, 5, 4]),
        ("is:favourite", [2, 4]),
        ("-is:favourite", [3, 1, 6, 5]),
        ("tag:portfolio", [1, 4]),
        ('tag:"RED FOX"', [1, 4]),
        ("tag:red", []),
        ("tag:STRASSE", [6]),
        ("tag:straße", [6]),
        ("portfolio ", [1, 4]),
        ("sampler:DPMPP_2M", [6]),
        ("size:1024x1024", [3, 2, 1]),
        ("size:<1024x1024", [6, 5, 4]),
        ("width:512 height:768", [6, 5, 4]),
        ("date:2026-11-24", [2, 1]),
        ("date:today", [3]),
        ("date:yesterday", [2, 1]),
        ("date:2026-11", [3, 2, 1, 6, 5]),
        ("date:<2026-11", [4]),
        ("date:>2026-11-24", [3]),
        ("date:2026-11-01..2026-11-02", [6, 5]),
        ("batch:1", [3]),
        ("batch:lighthouse", [3]),
        ("batch:2026-11-24", [3]),
        ("connection:CLOUD", [3]),
        ("is:job", [3]),
        ("is:folder fox ", [2, 1, 4]),
        ("folder:/library", [3, 2, 1, 6, 5, 4]),
        ("folder:/lib", []),
        ("red fox seed:1234 rating:>=4 model:flux is:folder", [1]),
    ],
)
def test_search_finds(gallery: Gallery, text: str, expected: list[int]) -> None:
    assert found(gallery, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "fox AND NOT",
        "NEAR(fox snow)",
        "fox*",
        '"fox" OR "cat"',
        "'; DROP TABLE images; --",
        "{prompt} : fox",
        "^fox",
        'tag:"x\'); DELETE FROM images; --"',
        'model:"%"',
        'batch:"_"',
    ],
)
def test_syntax_in_search_is_plain_text(gallery: Gallery, text: str) -> None:
    query = parse_query(text + " ", today=TODAY)
    gallery.search(query)
    gallery.count(query)
    assert gallery.count(ImageQuery()) == 6


def test_fts_operators_are_words(gallery: Gallery) -> None:
    assert found(gallery, "fox AND ") == []
    assert found(gallery, "fox* ") == [2, 1, 4]


def test_orders(gallery: Gallery) -> None:
    newest = gallery.search(ImageQuery())
    oldest = gallery.search(ImageQuery(order=ImageOrder.OLDEST))
    by_rating = gallery.search(ImageQuery(order=ImageOrder.RATING))
    assert [record.id for record in oldest] == [record.id for record in reversed(newest)]
    assert [record.rating for record in by_rating] == [5, 5, 3, 0, 0, 0]
    assert by_rating[0].created_at > by_rating[1].created_at


def test_pages_cover_all_rows(gallery: Gallery) -> None:
    query = parse_query("", today=TODAY)
    pages = [gallery.search(query, limit=4, offset=offset) for offset in (0, 4, 8)]
    assert [len(page) for page in pages] == [4, 2, 0]
    ids = [record.id for page in pages for record in page]
    assert ids == gallery.search_ids(query)
    assert len(set(ids)) == 6


def test_missing_rows_hidden_unless_asked(gallery: Gallery) -> None:
    gallery.mark_missing(["/library/image1.png"])
    assert found(gallery, "red fox ") == [2, 4]
    assert found(gallery, "is:missing") == [1]
    assert found(gallery, "-is:corrupt red ") == [3, 2, 4]
    assert found(gallery, "") == [3, 2, 6, 5, 4]
    missing = gallery.get_by_path("/library/image1.png")
    assert missing is not None
    assert missing.status is ImageStatus.MISSING
    assert "not found" in missing.message


def test_facets_follow_query(gallery: Gallery) -> None:
    everything = gallery.facets(ImageQuery())
    assert [(facet.batch_id, facet.name, facet.count) for facet in everything.batches] == [
        (1, "lighthouse 2026-11-24 10-00-00", 1)
    ]
    assert everything.connections == [("cloud", 1)]
    assert everything.days == [
        ("2026-11-25", 1),
        ("2026-11-24", 2),
        ("2026-11-02", 1),
        ("2026-11-01", 1),
        ("2026-10-31", 1),
    ]
    foxes = gallery.facets(parse_query("fox ", today=TODAY))
    assert foxes.batches == []
    assert foxes.days == [("2026-11-24", 2), ("2026-10-31", 1)]


def test_huge_seed_round_trips(gallery: Gallery) -> None:
    record = gallery.get_by_path("/library/image4.png")
    assert record is not None
    assert record.seed == 2**64 - 1
