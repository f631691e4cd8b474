"""Loading workflows from pictures (PNG text chunks, WEBP and JPEG EXIF) and sidecar files."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.workflows.formats import (
    WorkflowLoadError,
    find_workflow_files,
    load_workflow_file,
    parse_workflow,
    scan_workflow_paths,
)
from cmfy_desk.workflows.graph import Graph

EXIF_IFD = 0x8769
USER_COMMENT = 0x9286


def api_graph() -> Graph:
    path = next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    graph: Graph = json.loads(path.read_text(encoding="utf-8"))
    graph["2"]["inputs"]["text"] = "ein Fuchs im Schnee, café, 狐"
    return graph


def editor_workflow() -> dict[str, Any]:
    return {
        "last_node_id": 2,
        "last_link_id": 1,
        "nodes": [
            {
                "id": 1,
                "type": "LoadImage",
                "mode": 0,
                "inputs": [],
                "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
                "widgets_values": ["fox.png", "image"],
            },
            {
                "id": 2,
                "type": "SaveImage",
                "mode": 0,
                "inputs": [{"name": "images", "type": "IMAGE", "link": 1}],
                "outputs": [],
                "widgets_values": ["fox"],
            },
        ],
        "links": [[1, 1, 0, 2, 0, "IMAGE"]],
        "version": 0.4,
    }


def picture() -> Image.Image:
    return Image.new("RGB", (16, 12), (30, 90, 160))


def write_png(path: Path, chunks: dict[str, str], kind: str = "tEXt") -> Path:
    info = PngInfo()
    for key, text in chunks.items():
        if kind == "tEXt":
            info.add_text(key, text)
        elif kind == "zTXt":
            info.add_text(key, text, zip=True)
        elif kind == "iTXt":
            info.add_itxt(key, text)
        else:
            info.add_itxt(key, text, zip=True)
    picture().save(path, pnginfo=info)
    return path


def chunk_types(path: Path) -> list[bytes]:
    data = path.read_bytes()
    types: list[bytes] = []
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        types.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return types


def comfyui_exif(prompt: object, workflow: object) -> Image.Exif:
    """Return EXIF as ComfyUI's SaveAnimatedWEBP writes it: Model = prompt, Make = workflow."""
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(prompt)
    exif[0x010F] = "workflow:" + json.dumps(workflow)
    return exif


def load_error(path: Path) -> WorkflowLoadError:
    with pytest.raises(WorkflowLoadError) as caught:
        load_workflow_file(path)
    return caught.value


@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt", "iTXt-compressed"])
def test_png_text_chunk_kinds_load(tmp_path: Path, kind: str) -> None:
    path = write_png(tmp_path / "fox.png", {"prompt": json.dumps(api_graph())}, kind)
    expected_chunk = kind.split("-")[0].encode()
    assert expected_chunk in chunk_types(path)
    loaded = load_workflow_file(path)
    assert loaded.graph == api_graph()
    assert loaded.source_format == "png"
    assert loaded.name == "fox"
    assert loaded.path == path


def test_png_round_trip_like_sandbox(tmp_path: Path) -> None:
    metadata = PngInfo()
    metadata.add_text("prompt", json.dumps(api_graph()))
    path = tmp_path / "ComfyUI_00001_.png"
    picture().save(path, pnginfo=metadata)
    assert load_workflow_file(path).graph == api_graph()


def test_png_prefers_api_graph(tmp_path: Path) -> None:
    chunks = {"prompt": json.dumps(api_graph()), "workflow": json.dumps(editor_workflow())}
    loaded = load_workflow_file(write_png(tmp_path / "both.png", chunks))
    assert loaded.graph == api_graph()
    assert loaded.editor_workflow == editor_workflow()


def test_png_editor_graph_converted(tmp_path: Path) -> None:
    path = write_png(tmp_path / "editor.png", {"workflow": json.dumps(editor_workflow())})
    loaded = load_workflow_file(path)
    assert loaded.source_format == "png"
    assert loaded.graph["1"]["class_type"] == "LoadImage"
    assert loaded.graph["2"]["inputs"]["images"] == ["1", 0]


def test_png_invalid_prompt_falls_back(tmp_path: Path) -> None:
    broken = api_graph()
    broken["7"]["inputs"]["images"] = ["99", 0]
    chunks = {"prompt": json.dumps(broken), "workflow": json.dumps(editor_workflow())}
    loaded = load_workflow_file(write_png(tmp_path / "fallback.png", chunks))
    assert loaded.graph["2"]["class_type"] == "SaveImage"


def test_png_text_after_image_data(tmp_path: Path) -> None:
    path = tmp_path / "late.png"
    picture().save(path)
    data = path.read_bytes()
    body = b"prompt\x00" + json.dumps(api_graph()).encode("latin-1", errors="replace")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    iend = data.rindex(b"IEND") - 4
    path.write_bytes(data[:iend] + chunk + data[iend:])
    assert chunk_types(path)[-2:] == [b"tEXt", b"IEND"]
    assert load_workflow_file(path).graph["5"]["class_type"] == "KSampler"


def test_webp_comfyui_exif(tmp_path: Path) -> None:
    path = tmp_path / "anim.webp"
    picture().save(path, exif=comfyui_exif(api_graph(), editor_workflow()))
    loaded = load_workflow_file(path)
    assert loaded.source_format == "webp"
    assert loaded.graph == api_graph()
    assert loaded.editor_workflow == editor_workflow()


def test_webp_workflow_only_exif(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "workflow:" + json.dumps(editor_workflow())
    path = tmp_path / "editor.webp"
    picture().save(path, exif=exif)
    loaded = load_workflow_file(path)
    assert loaded.graph["2"]["inputs"]["filename_prefix"] == "fox"


def test_jpeg_save_node_exif(tmp_path: Path) -> None:
    """A save node that writes Prompt: into Make and Workflow: into ImageDescription."""
    exif = Image.Exif()
    exif[0x010F] = "Prompt:" + json.dumps(api_graph())
    exif[0x010E] = "Workflow:" + json.dumps(editor_workflow())
    path = tmp_path / "photo.jpg"
    picture().save(path, exif=exif)
    loaded = load_workflow_file(path)
    assert loaded.source_format == "jpeg"
    assert loaded.graph == api_graph()
    assert loaded.editor_workflow == editor_workflow()


def test_jpeg_user_comment_string(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[USER_COMMENT] = json.dumps({"prompt": api_graph(), "workflow": editor_workflow()})
    path = tmp_path / "comment.jpeg"
    picture().save(path, exif=exif)
    assert load_workflow_file(path).graph == api_graph()


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le"])
def test_user_comment_unicode_code(tmp_path: Path, encoding: str) -> None:
    exif = Image.Exif()
    text = json.dumps({"prompt": api_graph()}, ensure_ascii=False)
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = b"UNICODE\x00" + text.encode(encoding)
    path = tmp_path / "unicode.webp"
    picture().save(path, exif=exif.tobytes())
    assert load_workflow_file(path).graph == api_graph()


def test_user_comment_ascii_code(tmp_path: Path) -> None:
    exif = Image.Exif()
    text = json.dumps({"prompt": api_graph()})
    exif.get_ifd(EXIF_IFD)[USER_COMMENT] = b"ASCII\x00\x00\x00" + text.encode("ascii")
    path = tmp_path / "ascii.jpg"
    picture().save(path, exif=exif.tobytes())
    assert load_workflow_file(path).graph == api_graph()


def test_png_sidecar_named_after_image(tmp_path: Path) -> None:
    path = tmp_path / "render.png"
    picture().save(path)
    (tmp_path / "render.png.json").write_text(json.dumps(api_graph()), encoding="utf-8")
    loaded = load_workflow_file(path)
    assert loaded.source_format == "sidecar"
    assert loaded.graph == api_graph()
    assert loaded.path == path
    assert loaded.name == "render"


def test_sidecar_with_stem_name(tmp_path: Path) -> None:
    path = tmp_path / "render.webp"
    picture().save(path)
    (tmp_path / "render.json").write_text(json.dumps(editor_workflow()), encoding="utf-8")
    loaded = load_workflow_file(path)
    assert loaded.source_format == "sidecar"
    assert loaded.editor_workflow == editor_workflow()


def test_embedded_wins_over_sidecar(tmp_path: Path) -> None:
    path = write_png(tmp_path / "fox.png", {"prompt": json.dumps(api_graph())})
    (tmp_path / "fox.png.json").write_text(json.dumps(editor_workflow()), encoding="utf-8")
    assert load_workflow_file(path).source_format == "png"


def test_broken_sidecar_named(tmp_path: Path) -> None:
    path = tmp_path / "render.png"
    picture().save(path)
    (tmp_path / "render.png.json").write_text("{oops", encoding="utf-8")
    error = load_error(path)
    assert str(error).startswith("render.png.json: is not valid JSON")


@pytest.mark.parametrize("suffix", [".png", ".webp", ".jpg"])
def test_picture_without_workflow(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"holiday{suffix}"
    picture().save(path)
    error = load_error(path)
    assert "contains no ComfyUI workflow" in error.reason
    assert f"holiday{suffix}.json" in error.fix
    assert str(error).startswith(f"holiday{suffix}: is a ")


def test_invalid_metadata_json_named(tmp_path: Path) -> None:
    path = write_png(tmp_path / "bad.png", {"prompt": '{"1": {"class_type": '})
    error = load_error(path)
    assert "contains no ComfyUI workflow" in error.reason
    assert "text chunk 'prompt' is not valid JSON" in error.reason


def test_truncated_png_rejected(tmp_path: Path) -> None:
    whole = write_png(tmp_path / "whole.png", {"prompt": json.dumps(api_graph())})
    path = tmp_path / "cut.png"
    path.write_bytes(whole.read_bytes()[:60])
    error = load_error(path)
    assert error.reason.startswith("is a PNG image that cannot be read")
    assert "copied completely" in error.fix


def test_png_header_only_rejected(tmp_path: Path) -> None:
    path = tmp_path / "header.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    error = load_error(path)
    assert "PNG image" in error.reason


def test_gif_named_as_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    picture().save(path)
    error = load_error(path)
    assert error.reason == "is a GIF image, which cannot carry a ComfyUI workflow."


def test_large_picture_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    with path.open("wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n")
        # Sparse: the limit must come from stat(), not from reading the file.
        file.truncate(250 * 1024 * 1024)
    error = load_error(path)
    assert "250.0 MB" in error.reason
    assert "200 MB limit for a picture" in error.reason


def test_picture_above_json_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    with path.open("wb") as file:
        write_png(tmp_path / "small.png", {"prompt": json.dumps(api_graph())})
        file.write((tmp_path / "small.png").read_bytes())
        # Bytes after IEND are ignored by readers; they make the file larger than 10 MB.
        file.truncate(12 * 1024 * 1024)
    assert load_workflow_file(path).graph == api_graph()


def test_parse_workflow_png_bytes(tmp_path: Path) -> None:
    path = write_png(tmp_path / "fox.png", {"prompt": json.dumps(api_graph())})
    loaded = parse_workflow(path.read_bytes(), Path("drop/fox.png"))
    assert loaded.graph == api_graph()
    assert loaded.name == "fox"


def test_find_workflow_files_expands_folder(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for name in ["b.json", "a.png", "c.webp", "d.JPG", "e.jpeg", "notes.txt", "a.png.json"]:
        (folder / name).write_bytes(b"x")
    (folder / "nested").mkdir()
    (folder / "nested" / "f.json").write_bytes(b"x")
    single = tmp_path / "single.json"
    found = find_workflow_files([folder, single])
    assert [path.name for path in found] == [
        "a.png",
        "b.json",
        "c.webp",
        "d.JPG",
        "e.jpeg",
        "single.json",
    ]


def test_find_workflow_files_skips_stem_sidecar(tmp_path: Path) -> None:
    for name in ["fox.png", "fox.json", "hare.json"]:
        (tmp_path / name).write_bytes(b"x")
    assert [path.name for path in find_workflow_files([tmp_path])] == ["fox.png", "hare.json"]


def test_scan_reports_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x", encoding="utf-8")
    files, errors = scan_workflow_paths([tmp_path])
    assert files == []
    assert len(errors) == 1
    assert "without workflow files" in errors[0].reason
