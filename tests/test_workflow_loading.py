"""Loading workflow JSON files (API and editor format), and the message each bad file gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.formats import (
    MAX_WORKFLOW_BYTES,
    WorkflowLoadError,
    load_workflow_file,
    parse_workflow,
)
from cmfy_desk.workflows.graph import model_urls, output_nodes

EXPORT_HINT = "Export (API)"


def small_graph() -> dict[str, Any]:
    return {
        "1": {
            "class_type": "CheckpointLoaderSimple",
            "inputs": {"ckpt_name": "https://example.invalid/model.safetensors"},
        },
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["1", 1]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
    }


def editor_workflow() -> dict[str, Any]:
    """Return the shape ComfyUI's Save writes: a node list and a link table."""
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
        "groups": [],
        "version": 0.4,
    }


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load_error(path: Path) -> WorkflowLoadError:
    with pytest.raises(WorkflowLoadError) as caught:
        load_workflow_file(path)
    return caught.value


def test_bundled_workflows_are_three() -> None:
    names = [path.name for path in bundled_workflows()]
    assert names == ["sd15_lora_txt2img.json", "sd15_txt2img.json", "sdxl_txt2img.json"]


@pytest.mark.parametrize("path", bundled_workflows(), ids=lambda path: path.stem)
def test_bundled_workflow_loads(path: Path) -> None:
    loaded = load_workflow_file(path)
    assert loaded.name == path.stem
    assert loaded.path == path
    assert len(output_nodes(loaded.graph)) == 1
    assert all(url.startswith("https://huggingface.co/") for url in model_urls(loaded.graph))


def test_bundled_lora_workflow_wires_lora() -> None:
    path = next(path for path in bundled_workflows() if path.stem == "sd15_lora_txt2img")
    graph = load_workflow_file(path).graph
    sampler = next(node for node in graph.values() if node["class_type"] == "KSampler")
    lora_id = next(node_id for node_id, node in graph.items() if node["class_type"] == "LoraLoader")
    assert sampler["inputs"]["model"] == [lora_id, 0]
    assert sampler["inputs"]["sampler_name"] == "lcm"


def test_api_graph_loads(tmp_path: Path) -> None:
    loaded = load_workflow_file(write_json(tmp_path / "fox.json", small_graph()))
    assert loaded.name == "fox"
    assert loaded.graph == small_graph()


def test_wrapped_prompt_is_unwrapped(tmp_path: Path) -> None:
    document = {"prompt": small_graph(), "client_id": "abc"}
    loaded = load_workflow_file(write_json(tmp_path / "wrapped.json", document))
    assert loaded.graph == small_graph()


def test_subgraph_ids_stay_strings(tmp_path: Path) -> None:
    graph = {
        "58:3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64}},
        "10": {"class_type": "SaveImage", "inputs": {"images": ["58:3", 0]}},
        "9": {"class_type": "PreviewImage", "inputs": {"images": ["58:3", 0]}},
    }
    loaded = load_workflow_file(write_json(tmp_path / "sub.json", graph))
    assert list(loaded.graph) == ["58:3", "10", "9"]
    assert loaded.graph["10"]["inputs"]["images"] == ["58:3", 0]


def test_utf8_bom_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(small_graph()).encode())
    assert load_workflow_file(path).graph == small_graph()


def test_parse_workflow_bytes() -> None:
    loaded = parse_workflow(json.dumps(small_graph()).encode(), Path("drop/fox.json"))
    assert loaded.name == "fox"
    assert loaded.graph == small_graph()


def test_parse_workflow_rejects_oversize_bytes() -> None:
    with pytest.raises(WorkflowLoadError) as caught:
        parse_workflow(b" " * (MAX_WORKFLOW_BYTES + 1), Path("big.json"))
    assert "limit" in caught.value.reason


def test_not_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "1": {"class_type": "SaveImage",\n  oops\n}', encoding="utf-8")
    error = load_error(path)
    assert str(error).startswith("broken.json: ")
    assert "not valid JSON" in error.reason
    assert "line 3, column 3" in error.reason
    assert error.fix


def test_truncated_json_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(small_graph())[:40], encoding="utf-8")
    error = load_error(path)
    assert "not valid JSON" in error.reason


def test_nan_rejected(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    path.write_text('{"1": {"class_type": "SaveImage", "inputs": {"x": NaN}}}', encoding="utf-8")
    error = load_error(path)
    assert "NaN" in error.reason


def test_deep_nesting_rejected(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    error = load_error(path)
    assert "nested too deeply" in error.reason


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([small_graph()], "JSON array"),
        ("workflow", "JSON string"),
        (42, "JSON number"),
        (None, "JSON null"),
        ({"a": 1}, "not a ComfyUI workflow"),
        ({}, "not a ComfyUI workflow"),
        ({"prompt": {"a": 1}}, "not a ComfyUI workflow"),
    ],
    ids=["list", "string", "number", "null", "object", "empty-object", "wrapped-junk"],
)
def test_json_not_workflow_rejected(tmp_path: Path, document: object, expected: str) -> None:
    error = load_error(write_json(tmp_path / "other.json", document))
    assert expected in error.reason
    assert str(error).startswith("other.json: ")
    assert EXPORT_HINT in error.fix


def test_editor_format_converted(tmp_path: Path) -> None:
    loaded = load_workflow_file(write_json(tmp_path / "saved.json", editor_workflow()))
    assert loaded.source_format == "editor"
    assert loaded.editor_workflow == editor_workflow()
    assert loaded.graph["1"]["class_type"] == "LoadImage"
    assert loaded.graph["1"]["inputs"]["image"] == "fox.png"
    assert loaded.graph["2"]["inputs"]["images"] == ["1", 0]
    assert loaded.graph["2"]["inputs"]["filename_prefix"] == "fox"


def test_editor_unknown_node_names_node(tmp_path: Path) -> None:
    workflow = editor_workflow()
    workflow["nodes"][0]["type"] = "MysteryNode"
    error = load_error(write_json(tmp_path / "custom.json", workflow))
    assert "cannot be converted to API format" in error.reason
    assert "node 1 (MysteryNode)" in error.reason
    assert str(error).startswith("custom.json: is an editor-format workflow")
    assert EXPORT_HINT in error.fix


def test_editor_uses_given_definitions(tmp_path: Path) -> None:
    custom = NodeDefinitions.from_object_info(
        {
            "MysteryNode": {
                "input": {"required": {"image": [["fox.png"], {}]}},
                "output": ["IMAGE"],
            },
            "SaveImage": {
                "input": {
                    "required": {
                        "images": ["IMAGE"],
                        "filename_prefix": ["STRING", {"default": "ComfyUI"}],
                    }
                },
                "output": [],
                "output_node": True,
            },
        },
        "test server",
    )
    workflow = editor_workflow()
    workflow["nodes"][0]["type"] = "MysteryNode"
    workflow["nodes"][0]["widgets_values"] = ["fox.png"]
    loaded = load_workflow_file(write_json(tmp_path / "custom.json", workflow), custom)
    assert loaded.graph["1"]["class_type"] == "MysteryNode"


def test_post_body_keeps_editor_graph(tmp_path: Path) -> None:
    document = {
        "prompt": small_graph(),
        "extra_data": {"extra_pnginfo": {"workflow": editor_workflow()}},
    }
    loaded = load_workflow_file(write_json(tmp_path / "body.json", document))
    assert loaded.graph == small_graph()
    assert loaded.source_format == "api"
    assert loaded.editor_workflow == editor_workflow()


def test_prompt_and_workflow_object_loads(tmp_path: Path) -> None:
    document = {"prompt": {"a": 1}, "workflow": editor_workflow()}
    loaded = load_workflow_file(write_json(tmp_path / "both.json", document))
    assert loaded.source_format == "editor"
    assert loaded.graph["2"]["class_type"] == "SaveImage"


def test_missing_link_names_node(tmp_path: Path) -> None:
    graph = small_graph()
    graph["3"]["inputs"]["images"] = ["99", 0]
    error = load_error(write_json(tmp_path / "dangling.json", graph))
    assert "Node 3 (SaveImage)" in error.reason
    assert "node 99" in error.reason
    assert "fix node 3 (SaveImage)" in error.fix


def test_node_without_inputs_names_node(tmp_path: Path) -> None:
    graph = small_graph()
    del graph["2"]["inputs"]
    error = load_error(write_json(tmp_path / "noinputs.json", graph))
    assert "Node 2 (CLIPTextEncode)" in error.reason
    assert "fix node 2 (CLIPTextEncode)" in error.fix


def test_no_output_node_says_add_one(tmp_path: Path) -> None:
    graph = small_graph()
    del graph["3"]
    error = load_error(write_json(tmp_path / "nooutput.json", graph))
    assert "no output node" in error.reason
    assert "SaveImage" in error.fix


def test_empty_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    error = load_error(path)
    assert error.reason == "is empty."
    assert EXPORT_HINT in error.fix


def test_huge_file_rejected_before_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        # A sparse 50 MB file: the size check must come from stat(), not from reading it.
        file.truncate(50 * 1024 * 1024)
    error = load_error(path)
    assert "50.0 MB" in error.reason
    assert "10 MB" in error.reason
    assert str(error).startswith("huge.json: ")


def test_binary_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(bytes(range(256)) * 4)
    error = load_error(path)
    assert "binary" in error.reason
    assert error.fix


def test_png_image_rejected(tmp_path: Path) -> None:
    path = tmp_path / "fox.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR")
    error = load_error(path)
    assert "PNG image" in error.reason


def test_latin1_text_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"1": "caf\u00e9"}'.encode("latin-1"))
    error = load_error(path)
    assert "not valid UTF-8" in error.reason
    assert "UTF-8" in error.fix


def test_utf16_rejected(tmp_path: Path) -> None:
    path = tmp_path / "utf16.json"
    path.write_text(json.dumps(small_graph()), encoding="utf-16")
    error = load_error(path)
    assert "UTF-16" in error.reason


def test_folder_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    error = load_error(folder)
    assert error.reason == "is a folder, not a workflow file."
    assert str(error).startswith("workflows: ")


def test_missing_file_rejected(tmp_path: Path) -> None:
    error = load_error(tmp_path / "gone.json")
    assert error.reason == "was not found."
    assert error.path == tmp_path / "gone.json"
    assert str(error).startswith("gone.json: ")
