"""The image index: schema version 5, rows from job outputs and from scanned folders of real
image files, user fields, rescans, missing files, worker threads and a 100,000-image library."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from cmfy_desk.outputs import folder_scan
from cmfy_desk.outputs.folder_scan import (
    FolderScanner,
    FolderWatcher,
    ScanError,
    ScanProgress,
    scan_folder,
)
from cmfy_desk.outputs.index import (
    describe_graph,
    index_output,
    index_unindexed_outputs,
    parse_a1111_parameters,
    read_image_file,
)
from cmfy_desk.outputs.query import parse_query
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.store import (
    Gallery,
    ImageData,
    ImageQuery,
    ImageSource,
    ImageStatus,
    Job,
    Output,
    Store,
)
from cmfy_desk.store.migrations import MIGRATIONS, SCHEMA_VERSION
from cmfy_desk.workflows.graph import Graph
from tests.test_convert import txt2img

SDXL_URL = (
    "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/"
    "sd_xl_base_1.0.safetensors"
)
FLUX_URL = (
    "https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/flux1-schnell.safetensors"
)
SD15_URL = "https://civitai.com/api/download/models/128713"
EXIF_MODEL_TAG = 0x0110
EXIF_USER_COMMENT_TAG = 0x9286


def sdxl_graph(prompt: str | None = None, seed: int | None = None) -> Graph:
    path = next(path for path in bundled_workflows() if path.stem == "sdxl_txt2img")
    graph: Graph = json.loads(path.read_text(encoding="utf-8"))
    if prompt is not None:
        graph["2"]["inputs"]["text"] = prompt
    if seed is not None:
        graph["5"]["inputs"]["seed"] = seed
    return graph


def write_png(
    path: Path,
    graph: Graph | None = None,
    *,
    workflow: dict[str, Any] | None = None,
    parameters: str | None = None,
    size: tuple[int, int] = (16, 12),
) -> Path:
    metadata = PngInfo()
    if graph is not None:
        metadata.add_text("prompt", json.dumps(graph))
    if workflow is not None:
        metadata.add_text("workflow", json.dumps(workflow))
    if parameters is not None:
        metadata.add_text("parameters", parameters)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 40, 10)).save(path, format="PNG", pnginfo=metadata)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


def add_job(store: Store, graph: Graph, seed: int | None, connection: str = "cloud") -> Job:
    _batch, jobs = store.add_batch(
        name="lighthouse batch",
        workflow_name="sdxl_txt2img",
        workflow_path="sdxl_txt2img.json",
        connection=connection,
        seed_mode="fixed",
        output_dir="out",
        jobs=[(graph, "prompt-hash-1", seed)],
        parameters=[{"seed": seed}],
    )
    return jobs[0]


def save_output(store: Store, job: Job, path: Path, index: int = 0) -> Output:
    data = path.read_bytes()
    with Image.open(path) as image:
        width, height = image.size
    return store.add_output(
        job.id,
        index,
        remote_url=f"https://example.invalid/view?filename={path.name}",
        local_path=str(path),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


# Schema ---------------------------------------------------------------------------------


def test_schema_version_5_tables(store: Store) -> None:
    assert SCHEMA_VERSION >= 5
    assert store.schema_version == SCHEMA_VERSION
    names = {
        row[0]
        for row in store.connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')"
        )
    }
    for name in ("images", "images_fts", "watched_folders", "image_model_sets", "images_seed"):
        assert name in names


def test_version_4_database_is_migrated_and_backfilled(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:4], start=1):
        connection.executescript(script + f";PRAGMA user_version = {number};")
    # A job and an output written with the version 4 schema, before the index existed.
    connection.execute(
        "INSERT INTO batches (id, name, workflow_name, workflow_path, connection, count,"
        " seed_mode, output_dir, created_at) VALUES (1, 'b', 'w', 'p', 'cloud', 1, 'fixed', 'o', 0)"
    )
    connection.execute(
        "INSERT INTO jobs (id, batch_id, position, connection, workflow_name, prompt_json,"
        " prompt_hash, seed, status, idempotency_key, created_at, updated_at)"
        " VALUES (1, 1, 0, 'cloud', 'w', ?, 'h', 77, 'succeeded', 'k', 0, 0)",
        (json.dumps(sdxl_graph("an old lighthouse", 77)),),
    )
    picture = write_png(tmp_path / "old.png")
    connection.execute(
        "INSERT INTO outputs (job_id, idx, remote_url, local_path, size, sha256, created_at)"
        " VALUES (1, 0, 'u', ?, 1, 's', 5)",
        (str(picture),),
    )
    connection.commit()
    connection.close()

    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.gallery.unindexed_outputs() == [1]
    assert index_unindexed_outputs(store) == 1
    assert store.gallery.unindexed_outputs() == []
    assert store.gallery.count(parse_query("old lighthouse seed:77")) == 1
    store.close()


def test_version_6_database_gets_removed_outputs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:6], start=1):
        connection.executescript(script + f";PRAGMA user_version = {number};")
    # A job with two outputs, one of them indexed and rated, written with the version 6 schema.
    connection.execute(
        "INSERT INTO batches (id, name, workflow_name, workflow_path, connection, count,"
        " seed_mode, output_dir, created_at) VALUES (1, 'b', 'w', 'p', 'cloud', 1, 'fixed', 'o', 0)"
    )
    connection.execute(
        "INSERT INTO jobs (id, batch_id, position, connection, workflow_name, prompt_json,"
        " prompt_hash, seed, status, idempotency_key, created_at, updated_at)"
        " VALUES (1, 1, 0, 'cloud', 'w', ?, 'h', 77, 'succeeded', 'k', 0, 0)",
        (json.dumps(sdxl_graph("an old lighthouse", 77)),),
    )
    for index, name in enumerate(("old.png", "older.png")):
        connection.execute(
            "INSERT INTO outputs (id, job_id, idx, remote_url, local_path, size, sha256,"
            " created_at) VALUES (?, 1, ?, 'u', ?, 1, 's', 5)",
            (index + 1, index, str(write_png(tmp_path / name))),
        )
    connection.execute(
        "INSERT INTO images (id, path, output_id, job_id, batch_id, source, prompt, rating,"
        " created_at, indexed_at) VALUES (1, ?, 1, 1, 1, 'job', 'an old lighthouse', 3, 5, 5)",
        (str(tmp_path / "old.png"),),
    )
    connection.commit()
    connection.close()

    store = Store.open(path)
    version = store.schema_version
    migrated = store.gallery.get(1)
    removed = store.gallery.remove([1])
    unindexed = store.gallery.unindexed_outputs()
    store.close()

    assert version == SCHEMA_VERSION
    assert migrated.rating == 3
    assert migrated.output_id == 1
    assert removed == 1
    assert unindexed == [2]


def test_fts_follows_updates_and_deletes(store: Store) -> None:
    gallery = store.gallery
    gallery.upsert(
        [ImageData(path="/a.png", source=ImageSource.FOLDER, created_at=1, prompt="red fox")]
    )
    assert gallery.count(parse_query("fox ")) == 1
    gallery.upsert(
        [ImageData(path="/a.png", source=ImageSource.FOLDER, created_at=1, prompt="grey wolf")]
    )
    assert gallery.count(parse_query("fox ")) == 0
    assert gallery.count(parse_query("wolf ")) == 1
    record = gallery.get_by_path("/a.png")
    assert record is not None
    gallery.add_tags([record.id], ["winter"])
    assert gallery.count(parse_query("winter ")) == 1
    gallery.remove_tags([record.id], ["WINTER"])
    assert gallery.count(parse_query("winter ")) == 0
    assert gallery.remove([record.id]) == 1
    assert gallery.count(parse_query("wolf ")) == 0
    store.connection.execute("INSERT INTO images_fts (images_fts) VALUES ('integrity-check')")


# Job outputs ----------------------------------------------------------------------------


def test_index_output_takes_job_ground_truth(store: Store, tmp_path: Path) -> None:
    graph = sdxl_graph("a red fox in the snow, golden hour", seed=1234)
    job = add_job(store, graph, seed=1234)
    # The file's own metadata describes another picture, and the job's record wins.
    picture = write_png(tmp_path / "out" / "job00001_00.png", sdxl_graph("a cat", seed=5))
    output = save_output(store, job, picture)

    record = index_output(store, output)

    assert record is not None
    assert record.source is ImageSource.JOB
    assert record.output_id == output.id
    assert record.job_id == job.id
    assert record.batch_id == job.batch_id
    assert record.connection == "cloud"
    assert record.prompt == "a red fox in the snow, golden hour"
    assert record.negative == "blurry, low quality, oversaturated, watermark, text"
    assert record.seed == 1234
    assert record.steps == 25
    assert record.cfg == 6.5
    assert record.sampler == "dpmpp_2m"
    assert (record.width, record.height) == (16, 12)
    assert record.models == ("sd_xl_base_1.0.safetensors",)
    assert record.model_urls == (SDXL_URL,)
    assert record.workflow_hash == "prompt-hash-1"
    assert record.created_at == output.created_at
    assert record.file_size == picture.stat().st_size
    assert record.file_mtime_ns == picture.stat().st_mtime_ns
    assert record.status is ImageStatus.OK
    for text in ("red fox", "seed:1234", "model:sd_xl", f"batch:{job.batch_id}", "golden "):
        assert store.gallery.count(parse_query(text)) == 1, text


def test_index_output_twice_keeps_one_row(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph(seed=1), seed=1)
    output = save_output(store, job, write_png(tmp_path / "a.png"))
    first = index_output(store, output)
    second = index_output(store, output)
    assert first is not None and second is not None
    assert first.id == second.id
    assert store.gallery.count_all() == 1


def test_index_output_skips_non_images(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph(), seed=None)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 32)
    output = store.add_output(
        job.id,
        0,
        remote_url="u",
        local_path=str(clip),
        size=32,
        sha256="s",
        width=None,
        height=None,
    )
    assert index_output(store, output) is None
    assert store.gallery.count_all() == 0


def test_index_output_of_deleted_file_is_missing(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph(seed=3), seed=3)
    picture = write_png(tmp_path / "gone.png")
    output = save_output(store, job, picture)
    picture.unlink()
    record = index_output(store, output)
    assert record is not None
    assert record.status is ImageStatus.MISSING
    assert "cannot be read" in record.message


def test_job_seed_wins_over_graph_seed(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph(seed=10), seed=2**53 + 1)
    record = index_output(store, save_output(store, job, write_png(tmp_path / "a.png")))
    assert record is not None
    assert record.seed == 2**53 + 1
    assert store.gallery.count(parse_query(f"seed:{2**53 + 1}")) == 1


def test_largest_comfyui_seed_is_indexed(store: Store, tmp_path: Path) -> None:
    write_png(tmp_path / "pictures" / "a.png", sdxl_graph(seed=2**64 - 1))
    scan_folder(store.gallery, tmp_path / "pictures")
    records = store.gallery.search(parse_query("seed:18446744073709551615"))
    assert [record.seed for record in records] == [2**64 - 1]


def test_describe_graph_joins_prompts_and_models() -> None:
    graph = sdxl_graph("castle")
    graph["8"] = {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "moat", "clip": ["1", 1]},
    }
    graph["9"] = {
        "class_type": "ConditioningCombine",
        "inputs": {"conditioning_1": ["2", 0], "conditioning_2": ["8", 0]},
    }
    graph["5"]["inputs"]["positive"] = ["9", 0]
    graph["10"] = {
        "class_type": "LoraLoader",
        "inputs": {"lora_name": "styles/ink.safetensors", "model": ["1", 0], "clip": ["1", 1]},
    }
    facts = describe_graph(graph)
    assert facts.prompt == "castle\nmoat"
    assert facts.models == ["sd_xl_base_1.0.safetensors", "ink.safetensors"]
    assert facts.model_urls == [SDXL_URL, "styles/ink.safetensors"]
    assert (facts.width, facts.height) == (1024, 1024)


def test_describe_graph_reads_each_graphs_values() -> None:
    first = describe_graph(sdxl_graph("a fox", seed=1))
    second = describe_graph(sdxl_graph("a lighthouse", seed=2))
    assert (first.prompt, first.seed) == ("a fox", 1)
    assert (second.prompt, second.seed) == ("a lighthouse", 2)
    assert first.workflow_hash != second.workflow_hash


def test_describe_graph_follows_changed_links() -> None:
    graph = sdxl_graph("positive text")
    # Swapping the sampler's links swaps which prompt is positive, with equal input types.
    graph["5"]["inputs"]["positive"] = ["3", 0]
    graph["5"]["inputs"]["negative"] = ["2", 0]
    facts = describe_graph(graph)
    assert facts.prompt == "blurry, low quality, oversaturated, watermark, text"
    assert facts.negative == "positive text"


# User fields ----------------------------------------------------------------------------


def rows(count: int) -> list[ImageData]:
    return [
        ImageData(
            path=f"/pictures/{number:05d}.png",
            source=ImageSource.FOLDER,
            created_at=number,
            prompt="fox",
        )
        for number in range(count)
    ]


def test_bulk_rating_favourite_tags(store: Store) -> None:
    gallery = store.gallery
    gallery.upsert(rows(1200))
    selected = gallery.search_ids(ImageQuery())[:1100]
    gallery.set_rating(selected, 4)
    gallery.set_favourite(selected, True)
    gallery.add_tags(selected, ["Portfolio", "portfolio ", "red fox"])
    gallery.add_tags(selected[:10], ["print"])
    assert gallery.count(parse_query("rating:4")) == 1100
    assert gallery.count(parse_query("is:favourite")) == 1100
    assert gallery.count(parse_query("tag:portfolio")) == 1100
    assert gallery.count(parse_query("tag:print")) == 10
    assert gallery.get(selected[0]).tags == ("Portfolio", "red fox", "print")
    assert gallery.tag_counts() == [("Portfolio", 1100), ("red fox", 1100), ("print", 10)]

    gallery.remove_tags(selected[:5], ["red fox"])
    gallery.set_tags(selected[5:7], ["only"])
    assert gallery.get(selected[0]).tags == ("Portfolio", "print")
    assert gallery.get(selected[5]).tags == ("only",)
    gallery.set_rating(selected, 0)
    gallery.set_favourite(selected[:100], False)
    assert gallery.count(parse_query("rating:>0")) == 0
    assert gallery.count(parse_query("is:favourite")) == 1000


def test_rating_out_of_range_rejected(store: Store) -> None:
    store.gallery.upsert(rows(1))
    with pytest.raises(ValueError, match="expected 0 to 5"):
        store.gallery.set_rating([1], 6)
    with pytest.raises(sqlite3.IntegrityError):
        store.connection.execute("UPDATE images SET rating = -1")


def test_reindex_keeps_user_fields(store: Store) -> None:
    gallery = store.gallery
    gallery.upsert(rows(1))
    gallery.set_rating([1], 5)
    gallery.set_favourite([1], True)
    gallery.add_tags([1], ["keep"])
    gallery.upsert(
        [
            ImageData(
                path="/pictures/00000.png", source=ImageSource.FOLDER, created_at=0, prompt="wolf"
            )
        ]
    )
    record = gallery.get(1)
    assert (record.prompt, record.rating, record.favourite, record.tags) == (
        "wolf",
        5,
        True,
        ("keep",),
    )


def test_folder_scan_keeps_job_parameters(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph("lighthouse from the job", seed=42), seed=42)
    picture = write_png(tmp_path / "out" / "a.png", sdxl_graph("something else", seed=9))
    index_output(store, save_output(store, job, picture))
    os.utime(picture, ns=(1, 1))
    result = scan_folder(store.gallery, tmp_path / "out")
    assert result.indexed == 1
    record = store.gallery.get_by_path(str(picture.resolve()))
    assert record is not None
    assert record.source is ImageSource.JOB
    assert record.prompt == "lighthouse from the job"
    assert record.seed == 42
    assert record.file_mtime_ns == 1


def test_remove_rows_keeps_files(store: Store, tmp_path: Path) -> None:
    picture = write_png(tmp_path / "pictures" / "a.png", sdxl_graph())
    scan_folder(store.gallery, tmp_path / "pictures")
    assert store.gallery.remove(store.gallery.search_ids(ImageQuery())) == 1
    assert store.gallery.count_all() == 0
    assert picture.exists()


def test_removed_output_stays_removed(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    job = add_job(store, sdxl_graph("a lighthouse", seed=3), seed=3)
    output = save_output(store, job, write_png(tmp_path / "out" / "a.png"))
    record = index_output(store, output)
    assert record is not None
    assert store.gallery.remove([record.id]) == 1
    store.close()

    # The next start indexes the outputs that have no image row.
    store = Store.open(tmp_path / "db.sqlite3")
    indexed_at_start = index_unindexed_outputs(store)
    saved_again = index_output(store, output)
    images = store.gallery.count_all()
    outputs = [item.id for item in store.outputs(job.id)]
    store.close()

    assert indexed_at_start == 0
    assert saved_again is None
    assert images == 0
    # The job's own record of what it produced stays.
    assert outputs == [output.id]


def test_missing_output_record_kept_at_start(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph("a lighthouse", seed=3), seed=3)
    picture = write_png(tmp_path / "out" / "a.png")
    record = index_output(store, save_output(store, job, picture))
    assert record is not None
    store.gallery.set_rating([record.id], 4)
    picture.unlink()
    store.gallery.mark_missing([record.path])

    indexed_at_start = index_unindexed_outputs(store)
    record_after = store.gallery.get(record.id)

    assert indexed_at_start == 0
    assert store.gallery.count_all() == 1
    assert record_after.status is ImageStatus.MISSING
    assert record_after.rating == 4


def test_removing_folder_image_marks_no_output(store: Store, tmp_path: Path) -> None:
    job = add_job(store, sdxl_graph(seed=3), seed=3)
    output = save_output(store, job, write_png(tmp_path / "out" / "a.png"))
    write_png(tmp_path / "pictures" / "b.png", sdxl_graph())
    scan_folder(store.gallery, tmp_path / "pictures")
    folder_ids = store.gallery.search_ids(ImageQuery())

    assert store.gallery.remove(folder_ids) == 1
    assert store.gallery.unindexed_outputs() == [output.id]
    assert index_unindexed_outputs(store) == 1


# Reading files --------------------------------------------------------------------------


def test_png_with_api_graph(tmp_path: Path) -> None:
    picture = write_png(tmp_path / "a.png", sdxl_graph("a lighthouse", seed=7), size=(30, 20))
    row = read_image_file(picture)
    assert row.status is ImageStatus.OK
    assert row.source is ImageSource.FOLDER
    assert (row.prompt, row.seed, row.steps, row.cfg, row.sampler) == (
        "a lighthouse",
        7,
        25,
        6.5,
        "dpmpp_2m",
    )
    assert (row.width, row.height) == (30, 20)
    assert row.model_urls == (SDXL_URL,)
    assert len(row.workflow_hash) == 64
    assert row.created_at == picture.stat().st_mtime


def test_png_with_editor_workflow_only(tmp_path: Path) -> None:
    row = read_image_file(write_png(tmp_path / "a.png", workflow=txt2img()))
    assert row.status is ImageStatus.OK
    assert row.message == ""
    assert (row.prompt, row.negative, row.seed, row.steps) == ("a cat", "blurry", 42, 20)
    assert row.models == ("model.safetensors",)


def test_png_with_unconvertible_editor_workflow(tmp_path: Path) -> None:
    workflow = txt2img()
    workflow["nodes"][0]["type"] = "NoSuchLoader"
    row = read_image_file(write_png(tmp_path / "a.png", workflow=workflow))
    assert row.status is ImageStatus.OK
    assert "cannot be converted" in row.message
    assert row.prompt == ""


def test_webp_with_exif_prompt(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[EXIF_MODEL_TAG] = "prompt:" + json.dumps(sdxl_graph("webp fox", seed=11))
    picture = tmp_path / "a.webp"
    Image.new("RGB", (10, 10), (1, 2, 3)).save(picture, format="WEBP", exif=exif)
    row = read_image_file(picture)
    assert row.status is ImageStatus.OK
    assert (row.prompt, row.seed) == ("webp fox", 11)


def test_jpeg_with_user_comment(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[EXIF_USER_COMMENT_TAG] = json.dumps({"prompt": sdxl_graph("jpeg fox", seed=12)})
    picture = tmp_path / "a.jpg"
    Image.new("RGB", (10, 10), (1, 2, 3)).save(picture, format="JPEG", exif=exif)
    row = read_image_file(picture)
    assert row.status is ImageStatus.OK
    assert (row.prompt, row.seed) == ("jpeg fox", 12)


def test_png_with_a1111_parameters(tmp_path: Path) -> None:
    text = (
        "a castle on a hill, (masterpiece:1.2)\nsecond line\n"
        "Negative prompt: blurry, lowres\n"
        "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 3456789, Size: 512x768, "
        'Model hash: 31e35c80fc, Model: dreamshaper_8, Lora hashes: "ink: 1a2b, paper: 3c4d", '
        "Version: v1.9.0"
    )
    row = read_image_file(write_png(tmp_path / "a.png", parameters=text))
    assert row.prompt == "a castle on a hill, (masterpiece:1.2)\nsecond line"
    assert row.negative == "blurry, lowres"
    assert (row.steps, row.sampler, row.cfg, row.seed) == (28, "DPM++ 2M Karras", 6.5, 3456789)
    assert row.models == ("dreamshaper_8",)


def test_a1111_without_settings_line() -> None:
    facts = parse_a1111_parameters("just a prompt")
    assert facts.prompt == "just a prompt"
    assert facts.steps is None
    assert facts.seed is None


def test_png_without_metadata_is_ok(tmp_path: Path) -> None:
    row = read_image_file(write_png(tmp_path / "plain.png"))
    assert row.status is ImageStatus.OK
    assert row.prompt == ""
    assert (row.width, row.height) == (16, 12)


def truncated(source: Path, target: Path, keep: float = 0.6) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("empty.png", b"", ImageStatus.CORRUPT, ["not an image", "PNG"]),
        ("text.jpg", b"hello, not a picture", ImageStatus.CORRUPT, ["not an image", "JPG"]),
        ("gif.png", b"GIF89a" + b"\x00" * 20, ImageStatus.CORRUPT, ["a GIF image", "PNG"]),
        ("header.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, ImageStatus.CORRUPT, ["damaged"]),
    ],
)
def test_bad_files_get_status(
    tmp_path: Path, name: str, content: bytes, status: ImageStatus, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    row = read_image_file(path)
    assert row.status is status
    for word in words:
        assert word in row.message


def test_truncated_png_is_corrupt(tmp_path: Path) -> None:
    source = tmp_path / "big.png"
    Image.effect_noise((256, 256), 60).convert("RGB").save(source)
    row = read_image_file(truncated(source, tmp_path / "cut.png"))
    assert row.status is ImageStatus.CORRUPT
    assert "truncated" in row.message


def test_truncated_jpeg_is_corrupt(tmp_path: Path) -> None:
    source = tmp_path / "big.jpg"
    Image.effect_noise((256, 256), 60).convert("RGB").save(source, quality=95)
    row = read_image_file(truncated(source, tmp_path / "cut.jpg"))
    assert row.status is ImageStatus.CORRUPT
    assert row.message


def test_truncated_webp_is_corrupt(tmp_path: Path) -> None:
    source = tmp_path / "big.webp"
    Image.effect_noise((256, 256), 60).convert("RGB").save(source, quality=95)
    row = read_image_file(truncated(source, tmp_path / "cut.webp"))
    assert row.status is ImageStatus.CORRUPT


def test_trailing_bytes_after_jpeg_are_ok(tmp_path: Path) -> None:
    picture = tmp_path / "extra.jpg"
    Image.new("RGB", (20, 20), (5, 6, 7)).save(picture)
    with picture.open("ab") as file:
        file.write(b"vendor data after the end of the image")
    assert read_image_file(picture).status is ImageStatus.OK


def test_folder_named_like_image_is_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "odd.png"
    folder.mkdir()
    row = read_image_file(folder)
    assert row.status is ImageStatus.UNREADABLE
    assert row.message


# Scanning folders -----------------------------------------------------------------------


def mixed_folder(root: Path) -> Path:
    write_png(root / "a" / "fox1.png", sdxl_graph("red fox", seed=1))
    write_png(root / "a" / "fox2.png", sdxl_graph("red fox", seed=2))
    write_png(root / "b" / "deep" / "castle.png", sdxl_graph("castle", seed=3))
    write_png(root / "plain.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (root / "notes.txt").write_text("not an image")
    write_png(root / ".hidden" / "skip.png", sdxl_graph("hidden", seed=4))
    return root


def test_scan_indexes_and_survives_bad_files(store: Store, tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "library")
    reports: list[ScanProgress] = []
    result = scan_folder(store.gallery, root, progress=reports.append)
    assert (result.total, result.indexed, result.failed, result.unchanged) == (5, 5, 1, 0)
    assert result.finished
    assert not result.cancelled
    assert reports[0].total == 5
    assert reports[-1] == result
    gallery = store.gallery
    assert gallery.count(parse_query("red fox")) == 2
    assert gallery.count(parse_query("castle seed:3")) == 1
    assert gallery.count(parse_query("hidden")) == 0
    assert gallery.count(parse_query("is:corrupt")) == 1
    assert gallery.count(parse_query(f'folder:"{root.resolve() / "b"}"')) == 1


def test_rescan_reads_only_changed_files(store: Store, tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "library")
    scan_folder(store.gallery, root)
    again = scan_folder(store.gallery, root)
    assert (again.indexed, again.unchanged, again.missing) == (0, 5, 0)

    write_png(root / "a" / "fox1.png", sdxl_graph("grey wolf", seed=1), size=(40, 40))
    os.utime(root / "a" / "fox1.png", ns=(2_000_000_000_000_000_000, 2_000_000_000_000_000_000))
    changed = scan_folder(store.gallery, root)
    assert (changed.indexed, changed.unchanged) == (1, 4)
    assert store.gallery.count(parse_query("wolf")) == 1
    assert store.gallery.count(parse_query("red fox")) == 1


def test_vanished_file_is_missing_then_back(store: Store, tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "library")
    scan_folder(store.gallery, root)
    castle = root.resolve() / "b" / "deep" / "castle.png"
    record = store.gallery.get_by_path(str(castle))
    assert record is not None
    store.gallery.set_rating([record.id], 5)
    saved = castle.read_bytes()
    castle.unlink()

    result = scan_folder(store.gallery, root)
    assert result.missing == 1
    assert store.gallery.count(parse_query("castle")) == 0
    assert store.gallery.count(parse_query("castle is:missing")) == 1
    assert scan_folder(store.gallery, root).missing == 0

    castle.write_bytes(saved)
    result = scan_folder(store.gallery, root)
    assert result.indexed == 1
    restored = store.gallery.get_by_path(str(castle))
    assert restored is not None
    assert restored.status is ImageStatus.OK
    assert restored.rating == 5


def test_scan_of_absent_folder_marks_nothing(store: Store, tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "drive")
    scan_folder(store.gallery, root)
    root.rename(tmp_path / "unplugged")
    with pytest.raises(ScanError, match="not a folder"):
        scan_folder(store.gallery, root)
    assert store.gallery.count(parse_query("is:missing")) == 0


def test_unlisted_subfolder_keeps_its_rows(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = mixed_folder(tmp_path / "library").resolve()
    scan_folder(store.gallery, root)
    real_scandir = os.scandir
    blocked = str(root / "a")

    def scandir(path: Any) -> Any:
        if str(path) == blocked:
            raise PermissionError(13, "Permission denied", blocked)
        return real_scandir(path)

    monkeypatch.setattr(folder_scan.os, "scandir", scandir)
    result = scan_folder(store.gallery, root)
    assert result.errors == (f"{blocked}: cannot be listed",)
    assert result.missing == 0
    assert store.gallery.count(parse_query("red fox")) == 2


def test_cancel_stops_scan_without_marking_missing(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "many"
    for number in range(30):
        write_png(root / f"{number:02d}.png", sdxl_graph("fox", seed=number))
    scan_folder(store.gallery, root)
    for number in range(30, 60):
        write_png(root / f"{number:02d}.png", sdxl_graph("fox", seed=number))
    (root / "00.png").unlink()
    cancel = threading.Event()
    cancel.set()
    result = scan_folder(store.gallery, root, cancel=cancel)
    assert result.cancelled
    assert result.done == 0
    assert result.missing == 0
    assert store.gallery.count(parse_query("is:missing")) == 0


def test_folder_scanner_runs_on_worker_thread(store: Store, tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "library")
    threads: set[str] = set()

    def progress(state: ScanProgress) -> None:
        threads.add(threading.current_thread().name)

    scanner = FolderScanner(store.path, progress=progress)
    try:
        result = scanner.scan(root).result(timeout=60)
        missing_folder = scanner.scan(tmp_path / "nowhere")
        with pytest.raises(ScanError):
            missing_folder.result(timeout=60)
    finally:
        scanner.close()
    assert result.indexed == 5
    assert threads
    assert all(name.startswith("cmfy-desk-scan") for name in threads)
    assert store.gallery.count(parse_query("red fox")) == 2


def test_folder_scanner_cancel(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "many"
    for number in range(200):
        write_png(root / f"{number:03d}.png", sdxl_graph("fox", seed=number))
    started = threading.Event()
    release = threading.Event()

    def progress(state: ScanProgress) -> None:
        started.set()
        release.wait(10)

    scanner = FolderScanner(store.path, progress=progress)
    try:
        future = scanner.scan(root)
        assert started.wait(30)
        scanner.cancel()
        release.set()
        result = future.result(timeout=60)
    finally:
        scanner.close()
    assert result.cancelled
    assert result.indexed < 200


def test_watcher_picks_up_new_files(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "watched"
    write_png(root / "first.png", sdxl_graph("first fox", seed=1))
    store.gallery.add_watched_folder(str(root.resolve()))
    store.gallery.add_watched_folder(str(tmp_path / "off"), watch=False)
    errors: list[str] = []
    watcher = FolderWatcher(store.path, interval=0.05, on_error=errors.append)
    watcher.start()
    try:
        wait_until(lambda: store.gallery.count(parse_query("first")) == 1)
        write_png(root / "second.png", sdxl_graph("second fox", seed=2))
        wait_until(lambda: store.gallery.count(parse_query("second")) == 1)
    finally:
        watcher.stop(timeout=30)
    folders = {folder.path: folder for folder in store.gallery.watched_folders()}
    assert folders[str(root.resolve())].last_scan is not None
    assert folders[str(tmp_path / "off")].last_scan is None
    assert errors == []


def test_watcher_reports_unreachable_folder(store: Store, tmp_path: Path) -> None:
    store.gallery.add_watched_folder(str(tmp_path / "unplugged"))
    errors: list[str] = []
    watcher = FolderWatcher(store.path, interval=0.05, on_error=errors.append)
    watcher.start()
    try:
        wait_until(lambda: bool(errors))
    finally:
        watcher.stop(timeout=30)
    assert "unplugged" in errors[0]


def test_watcher_rejects_bad_interval(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval"):
        FolderWatcher(tmp_path / "db.sqlite3", interval=0)


def test_watched_folder_removal_drops_its_rows(store: Store, tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "library").resolve()
    store.gallery.add_watched_folder(str(root))
    scan_folder(store.gallery, root)
    store.gallery.remove_watched_folder(str(root), remove_images=True)
    assert store.gallery.watched_folders() == []
    assert store.gallery.count_all() == 0


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


# A library of 100,000 images ------------------------------------------------------------

LIBRARY_SIZE = 100_000
LIBRARY_FOLDERS = 100
LIBRARY_MODELS = (SDXL_URL, FLUX_URL, SD15_URL)
# Every 10,000th file is cut short, so the scan meets damaged files among the good ones.
TRUNCATED_EVERY = 10_000


def library_prompt(number: int) -> str:
    words = ["a picture"]
    if number % 10 == 0:
        words.append("red fox")
    if number % 7 == 0:
        words.append("lighthouse")
    if number % 3 == 0:
        words.append("castle")
    return ", ".join(words)


def library_seed(number: int) -> int:
    return 1_000_000 + number % 40_000


def library_steps(number: int) -> int:
    return 20 + 5 * (number % 4)


def is_truncated(number: int) -> bool:
    return number % TRUNCATED_EVERY == TRUNCATED_EVERY - 1


def library_numbers(condition: Any) -> int:
    return sum(
        1 for number in range(LIBRARY_SIZE) if not is_truncated(number) and condition(number)
    )


@pytest.fixture(scope="session")
def image_library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """Write 100,000 8x8 PNGs with a ComfyUI prompt chunk each; return the folder and the
    seconds it took. The prompt, seed, steps and model follow library_* above."""
    root = tmp_path_factory.mktemp("library")
    started = time.perf_counter()
    graph = sdxl_graph()
    pixels = Image.new("RGB", (8, 8), (30, 60, 90))
    for folder in range(LIBRARY_FOLDERS):
        (root / f"{folder:03d}").mkdir()
    for number in range(LIBRARY_SIZE):
        graph["2"]["inputs"]["text"] = library_prompt(number)
        graph["5"]["inputs"]["seed"] = library_seed(number)
        graph["5"]["inputs"]["steps"] = library_steps(number)
        graph["1"]["inputs"]["ckpt_name"] = LIBRARY_MODELS[number % 3]
        metadata = PngInfo()
        metadata.add_text("prompt", json.dumps(graph))
        path = root / f"{number % LIBRARY_FOLDERS:03d}" / f"{number:06d}.png"
        pixels.save(path, format="PNG", pnginfo=metadata, compress_level=1)
        if is_truncated(number):
            path.write_bytes(path.read_bytes()[:-40])
    return root, time.perf_counter() - started


@pytest.fixture(scope="session")
def indexed_library(
    image_library: tuple[Path, float], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, ScanProgress, float]:
    root, _seconds = image_library
    database = tmp_path_factory.mktemp("library-db") / "db.sqlite3"
    store = Store.open(database)
    started = time.perf_counter()
    try:
        result = scan_folder(store.gallery, root)
    finally:
        store.close()
    return database, result, time.perf_counter() - started


@pytest.fixture
def library_gallery(indexed_library: tuple[Path, ScanProgress, float]) -> Iterator[Gallery]:
    store = Store.open(indexed_library[0])
    yield store.gallery
    store.close()


@pytest.mark.timeout(600)
def test_library_scan_indexes_everything(
    image_library: tuple[Path, float], indexed_library: tuple[Path, ScanProgress, float]
) -> None:
    _root, generate_seconds = image_library
    _database, result, scan_seconds = indexed_library
    print(f"generated {LIBRARY_SIZE} PNGs in {generate_seconds:.1f} s")
    print(f"indexed them in {scan_seconds:.1f} s")
    corrupt = LIBRARY_SIZE // TRUNCATED_EVERY
    assert (result.total, result.indexed, result.failed) == (LIBRARY_SIZE, LIBRARY_SIZE, corrupt)
    assert result.errors == ()


@pytest.mark.timeout(600)
def test_library_search_counts(library_gallery: Gallery) -> None:
    def count(text: str) -> int:
        return library_gallery.count(parse_query(text))

    # Damaged files stay in the gallery, shown with their message.
    assert count("") == LIBRARY_SIZE
    assert count("is:corrupt") == LIBRARY_SIZE // TRUNCATED_EVERY
    assert count("fox ") == library_numbers(lambda n: n % 10 == 0)
    assert count('"red fox" ') == library_numbers(lambda n: n % 10 == 0)
    assert count("lighthouse castle ") == library_numbers(lambda n: n % 21 == 0)
    assert count("ligh") == library_numbers(lambda n: n % 7 == 0)
    assert count("castle -lighthouse ") == library_numbers(lambda n: n % 3 == 0 and n % 7)
    assert count("seed:1001234") == library_numbers(lambda n: library_seed(n) == 1_001_234)
    assert count("seed:1039999") == library_numbers(lambda n: library_seed(n) == 1_039_999)
    assert count("model:flux") == library_numbers(lambda n: n % 3 == 1)
    assert count("model:civitai fox ") == library_numbers(lambda n: n % 3 == 2 and n % 10 == 0)
    assert count("steps:>25") == library_numbers(lambda n: library_steps(n) > 25)
    assert count("fox steps:35 model:sd_xl") == library_numbers(
        lambda n: n % 10 == 0 and library_steps(n) == 35 and n % 3 == 0
    )
    assert count("size:8x8") == LIBRARY_SIZE - LIBRARY_SIZE // TRUNCATED_EVERY


@pytest.mark.timeout(600)
def test_library_search_pages(library_gallery: Gallery) -> None:
    query = parse_query("lighthouse seed:1000700")
    expected = library_numbers(lambda n: n % 7 == 0 and library_seed(n) == 1_000_700)
    records = library_gallery.search(query, limit=10)
    assert len(records) == expected
    for record in records:
        number = int(Path(record.path).stem)
        assert "lighthouse" in record.prompt
        assert record.seed == library_seed(number) == 1_000_700
        assert record.steps == library_steps(number)
    page = library_gallery.search(parse_query("castle "), limit=200, offset=400)
    assert len(page) == 200
    times = [record.created_at for record in page]
    assert times == sorted(times, reverse=True)


@pytest.mark.timeout(600)
def test_library_rescan_skips_everything(
    indexed_library: tuple[Path, ScanProgress, float], image_library: tuple[Path, float]
) -> None:
    store = Store.open(indexed_library[0])
    started = time.perf_counter()
    try:
        result = scan_folder(store.gallery, image_library[0])
    finally:
        store.close()
    print(f"rescanned {LIBRARY_SIZE} unchanged files in {time.perf_counter() - started:.1f} s")
    assert (result.indexed, result.unchanged, result.missing) == (0, LIBRARY_SIZE, 0)
