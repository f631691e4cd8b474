from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import Graph
from cmfy_desk.workflows.preflight import (
    Finding,
    PreflightReport,
    Severity,
    check_graph,
    localize_for_cloud,
    relative_cost,
    remove_unused_nodes,
    rewrite_model_urls,
)

SD15_MAIN = (
    "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/"
    "v1-5-pruned-emaonly.safetensors"
)
SD15_PINNED = (
    "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/"
    "451f4fe16113bff5a5d2269ed5ad43b0592e9a14/v1-5-pruned-emaonly.safetensors"
)
LORA = "https://huggingface.co/latent-consistency/lcm-lora-sdv1-5/resolve/main/pytorch_lora_weights.safetensors"
CIVITAI = "https://civitai.com/api/download/models/128713"
WORKFLOWS = Path(__file__).resolve().parents[1] / "resources" / "workflows"


def txt2img(
    ckpt: str = SD15_PINNED,
    *,
    width: int = 512,
    height: int = 512,
    steps: int = 20,
    batch_size: int = 1,
) -> Graph:
    """A complete SD 1.5 text-to-image graph, the shape ComfyUI's default workflow has."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": width, "height": height, "batch_size": batch_size},
        },
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 1,
                "steps": steps,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["1", 0],
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"filename_prefix": "fox", "images": ["6", 0]}},
    }


def with_node(graph: Graph, node_id: str, class_type: str, **inputs: Any) -> Graph:
    changed = copy.deepcopy(graph)
    changed[node_id] = {"class_type": class_type, "inputs": inputs}
    return changed


def findings(report: PreflightReport, code: str) -> list[Finding]:
    return [finding for finding in report.findings if finding.code == code]


def load_bundled(name: str) -> Graph:
    graph: Graph = json.loads((WORKFLOWS / name).read_text(encoding="utf-8"))
    return graph


# Bundled workflows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sd15_txt2img.json", "sd15_lora_txt2img.json", "sdxl_txt2img.json"]
)
def test_bundled_no_unused_nodes(name: str) -> None:
    report = check_graph(load_bundled(name), None)

    assert report.unused_nodes == ()
    assert findings(report, "unused_nodes") == []
    assert report.errors == ()


@pytest.mark.parametrize(
    "name", ["sd15_txt2img.json", "sd15_lora_txt2img.json", "sdxl_txt2img.json"]
)
def test_bundled_not_pinned(name: str) -> None:
    report = check_graph(load_bundled(name), None)
    not_pinned = findings(report, "model_not_pinned")

    assert not_pinned
    assert all(finding.severity is Severity.INFO for finding in not_pinned)


def test_bundled_lora_both_models_not_pinned() -> None:
    report = check_graph(load_bundled("sd15_lora_txt2img.json"), None)

    assert [finding.node_ids for finding in findings(report, "model_not_pinned")] == [
        ("1",),
        ("2",),
    ]


def test_bundled_node_count() -> None:
    assert check_graph(load_bundled("sd15_lora_txt2img.json"), None).node_count == 8


def test_bundled_sdxl_cost() -> None:
    report = check_graph(load_bundled("sdxl_txt2img.json"), None)

    assert report.relative_cost == pytest.approx(2.5 * 25 / 20)


# Structure -------------------------------------------------------------------------------


def test_unused_nodes_found() -> None:
    graph = with_node(txt2img(), "8", "ImageBlur", image=["6", 0], blur_radius=1)
    graph = with_node(graph, "9", "ImageInvert", image=["8", 0])
    report = check_graph(graph, None)
    unused = findings(report, "unused_nodes")

    assert report.unused_nodes == ("8", "9")
    assert len(unused) == 1
    assert unused[0].severity is Severity.WARNING
    assert unused[0].node_ids == ("8", "9")
    assert unused[0].fix == "remove unused nodes"


def test_unused_nodes_node_count() -> None:
    graph = with_node(txt2img(), "8", "ImageInvert", image=["6", 0])

    assert check_graph(graph, None).node_count == 8


def test_no_output_node_error() -> None:
    graph = txt2img()
    del graph["7"]
    report = check_graph(graph, None)

    assert [finding.code for finding in report.errors] == ["no_output_node"]
    assert report.unused_nodes == ()


def test_preview_image_is_output() -> None:
    graph = txt2img()
    graph["7"]["class_type"] = "PreviewImage"
    del graph["7"]["inputs"]["filename_prefix"]

    assert findings(check_graph(graph, None), "no_output_node") == []


def test_missing_link_target_error() -> None:
    graph = txt2img()
    graph["5"]["inputs"]["positive"] = ["42", 0]
    found = findings(check_graph(graph, None), "missing_link_target")

    assert len(found) == 1
    assert found[0].severity is Severity.ERROR
    assert found[0].node_ids == ("5",)
    assert "'positive'" in found[0].message


def test_errors_sorted_first() -> None:
    graph = txt2img(SD15_MAIN)
    del graph["7"]
    severities = [finding.severity for finding in check_graph(graph, None).findings]

    assert severities == sorted(
        severities, key=[Severity.ERROR, Severity.WARNING, Severity.INFO].index
    )


def test_remove_unused_nodes() -> None:
    graph = with_node(txt2img(), "8", "ImageInvert", image=["6", 0])
    cleaned = remove_unused_nodes(graph)

    assert sorted(cleaned) == ["1", "2", "3", "4", "5", "6", "7"]
    assert "8" in graph
    assert check_graph(cleaned, None).unused_nodes == ()


def test_remove_unused_nodes_returns_copy() -> None:
    graph = txt2img()
    cleaned = remove_unused_nodes(graph)
    cleaned["1"]["inputs"]["ckpt_name"] = "changed"

    assert graph["1"]["inputs"]["ckpt_name"] == SD15_PINNED


def test_remove_unused_nodes_without_output() -> None:
    graph = txt2img()
    del graph["7"]

    assert remove_unused_nodes(graph) == graph


# Resolution, steps and cost --------------------------------------------------------------


def test_relative_cost_reference() -> None:
    assert relative_cost(txt2img()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("side", "expected"),
    [(512, 1.0), (768, 1.5), (1024, 2.5), (2048, 8.0)],
)
def test_relative_cost_anchor_points(side: int, expected: float) -> None:
    assert relative_cost(txt2img(width=side, height=side)) == pytest.approx(expected)


def test_relative_cost_between_points() -> None:
    cost = relative_cost(txt2img(width=1024, height=768))

    assert 1.5 < cost < 2.5


def test_relative_cost_below_512() -> None:
    cost = relative_cost(txt2img(width=256, height=256))

    assert 0 < cost < 1.0


def test_relative_cost_steps_and_batch() -> None:
    assert relative_cost(txt2img(steps=40, batch_size=4)) == pytest.approx(8.0)


def test_relative_cost_without_sampler() -> None:
    graph: Graph = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 512, "height": 512}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
    }

    assert relative_cost(graph) == pytest.approx(1.0)


def test_report_relative_cost() -> None:
    assert check_graph(txt2img(width=1024, height=1024), None).relative_cost == pytest.approx(2.5)


def test_high_resolution_warning() -> None:
    found = findings(check_graph(txt2img(width=2048, height=1536), None), "high_resolution")

    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].node_ids == ("4",)
    assert "2048x1536" in found[0].message


def test_1024_not_high_resolution() -> None:
    assert findings(check_graph(txt2img(width=1024, height=1024), None), "high_resolution") == []


def test_many_steps_warning() -> None:
    found = findings(check_graph(txt2img(steps=80), None), "many_steps")

    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].node_ids == ("5",)
    assert "20-30" in found[0].message


def test_50_steps_not_many() -> None:
    assert findings(check_graph(txt2img(steps=50), None), "many_steps") == []


# Model references on cmfy.cloud ----------------------------------------------------------


def test_local_name_without_library_error() -> None:
    report = check_graph(txt2img("v1-5-pruned-emaonly.safetensors"), None)
    found = findings(report, "local_model_name")

    assert len(found) == 1
    assert found[0].severity is Severity.ERROR
    assert found[0].node_ids == ("1",)
    assert "cmfy.cloud needs" in found[0].message
    assert found[0].replacement is None


def test_local_name_with_library_info() -> None:
    library = {"v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    report = check_graph(txt2img("SD15/v1-5-pruned-emaonly.safetensors"), None, library)
    found = findings(report, "local_model_name")

    assert len(found) == 1
    assert found[0].severity is Severity.INFO
    assert found[0].replacement == {"SD15/v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    assert report.errors == ()


def test_url_differs_from_library() -> None:
    library = {"v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    found = findings(check_graph(txt2img(SD15_MAIN), None, library), "model_url_differs")

    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].replacement == {SD15_MAIN: SD15_PINNED}


def test_url_same_as_library() -> None:
    library = {"v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    report = check_graph(txt2img(SD15_PINNED), None, library)

    assert report.findings == ()


def test_url_not_canonical_without_library() -> None:
    found = findings(
        check_graph(txt2img(SD15_PINNED + "?download=true"), None), "model_url_not_canonical"
    )

    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].replacement == {SD15_PINNED + "?download=true": SD15_PINNED}


def test_not_pinned_info() -> None:
    found = findings(check_graph(txt2img(SD15_MAIN), None), "model_not_pinned")

    assert len(found) == 1
    assert found[0].severity is Severity.INFO
    assert "pin" in found[0].message.lower()


def test_pinned_no_finding() -> None:
    assert check_graph(txt2img(SD15_PINNED), None).findings == ()


def test_civitai_counts_as_pinned() -> None:
    assert check_graph(txt2img(CIVITAI), None).findings == ()


def test_two_urls_same_file_warning() -> None:
    graph = with_node(txt2img(SD15_MAIN), "8", "CheckpointLoaderSimple", ckpt_name=SD15_PINNED)
    graph["6"]["inputs"]["vae"] = ["8", 2]
    found = findings(check_graph(graph, None), "duplicate_model_urls")

    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].node_ids == ("1", "8")
    assert found[0].replacement == {SD15_PINNED: SD15_MAIN}


def test_two_urls_prefer_plain_spelling() -> None:
    graph = with_node(
        txt2img(SD15_MAIN + "?download=true"), "8", "CheckpointLoaderSimple", ckpt_name=SD15_MAIN
    )
    graph["6"]["inputs"]["vae"] = ["8", 2]
    found = findings(check_graph(graph, None), "duplicate_model_urls")

    assert found[0].replacement == {SD15_MAIN + "?download=true": SD15_MAIN}


def test_same_url_twice_no_duplicate() -> None:
    graph = with_node(txt2img(SD15_PINNED), "8", "CheckpointLoaderSimple", ckpt_name=SD15_PINNED)
    graph["6"]["inputs"]["vae"] = ["8", 2]

    assert findings(check_graph(graph, None), "duplicate_model_urls") == []


def test_two_urls_with_library_entry() -> None:
    graph = with_node(txt2img(SD15_MAIN), "8", "CheckpointLoaderSimple", ckpt_name=SD15_PINNED)
    graph["6"]["inputs"]["vae"] = ["8", 2]
    library = {"v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    report = check_graph(graph, None, library)

    assert findings(report, "duplicate_model_urls") == []
    assert report.replacements == {SD15_MAIN: SD15_PINNED}


def test_custom_loader_url_input_checked() -> None:
    graph = with_node(txt2img(SD15_PINNED), "8", "CustomLoader", weights=LORA)
    graph["8"]["inputs"]["model"] = ["1", 0]
    graph["5"]["inputs"]["model"] = ["8", 0]
    found = findings(check_graph(graph, None), "model_not_pinned")

    assert [finding.node_ids for finding in found] == [("8",)]


# Model references on a ComfyUI server ----------------------------------------------------


def test_server_local_name_fine() -> None:
    report = check_graph(txt2img("v1-5-pruned-emaonly.safetensors"), None, for_cloud=False)

    assert report.findings == ()


def test_server_url_info() -> None:
    report = check_graph(txt2img(SD15_MAIN), None, for_cloud=False)

    assert report.codes() == ["model_url_on_server"]
    assert report.findings[0].severity is Severity.INFO


# Rewriting -------------------------------------------------------------------------------


def test_rewrite_model_urls() -> None:
    graph = txt2img(SD15_MAIN)
    rewritten = rewrite_model_urls(graph, {SD15_MAIN: SD15_PINNED})

    assert rewritten["1"]["inputs"]["ckpt_name"] == SD15_PINNED
    assert graph["1"]["inputs"]["ckpt_name"] == SD15_MAIN


def test_rewrite_leaves_other_inputs() -> None:
    graph = txt2img(SD15_MAIN)
    graph["2"]["inputs"]["text"] = SD15_MAIN
    rewritten = rewrite_model_urls(graph, {SD15_MAIN: SD15_PINNED})

    assert rewritten["2"]["inputs"]["text"] == SD15_MAIN


def test_rewrite_clears_url_findings() -> None:
    graph = with_node(txt2img(SD15_MAIN), "8", "LoraLoader", lora_name=LORA + "?download=true")
    library = {"v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    report = check_graph(graph, None, library)
    fixed = check_graph(rewrite_model_urls(graph, report.replacements), None, library)

    assert findings(fixed, "model_url_differs") == []
    assert findings(fixed, "model_url_not_canonical") == []


def test_localize_for_cloud() -> None:
    graph = with_node(txt2img("v1-5-pruned-emaonly.safetensors"), "8", "LoraLoader")
    graph["8"]["inputs"] = {"lora_name": "my_lora.safetensors", "model": ["1", 0]}
    library = {"v1-5-pruned-emaonly.safetensors": SD15_PINNED}
    localized, missing = localize_for_cloud(graph, library)

    assert localized["1"]["inputs"]["ckpt_name"] == SD15_PINNED
    assert localized["8"]["inputs"]["lora_name"] == "my_lora.safetensors"
    assert missing == ["my_lora.safetensors"]
    assert graph["1"]["inputs"]["ckpt_name"] == "v1-5-pruned-emaonly.safetensors"


def test_localize_keeps_urls() -> None:
    localized, missing = localize_for_cloud(txt2img(SD15_MAIN), {})

    assert localized == txt2img(SD15_MAIN)
    assert missing == []


# Node definitions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def definitions() -> NodeDefinitions:
    return NodeDefinitions.bundled()


@pytest.mark.parametrize(
    "name", ["sd15_txt2img.json", "sd15_lora_txt2img.json", "sdxl_txt2img.json"]
)
def test_bundled_valid_with_definitions(name: str, definitions: NodeDefinitions) -> None:
    report = check_graph(load_bundled(name), definitions)

    assert report.errors == ()
    assert report.warnings == ()


def test_missing_required_input(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    del graph["5"]["inputs"]["cfg"]
    del graph["5"]["inputs"]["positive"]
    found = findings(check_graph(graph, definitions), "missing_required_input")

    assert len(found) == 2
    assert all(finding.severity is Severity.ERROR for finding in found)
    assert found[0].node_ids == ("5",)
    assert "Node 5 (KSampler)" in found[0].message
    assert "'cfg'" in found[0].message
    assert "'positive'" in found[1].message


def test_missing_optional_input_fine(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["8"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": CIVITAI}}
    graph["9"] = {"class_type": "LoadImage", "inputs": {"image": "pose.png"}}
    graph["10"] = {
        "class_type": "ControlNetApplyAdvanced",
        "inputs": {
            "positive": ["2", 0],
            "negative": ["3", 0],
            "control_net": ["8", 0],
            "image": ["9", 0],
            "strength": 1.0,
            "start_percent": 0.0,
            "end_percent": 1.0,
        },
    }
    graph["5"]["inputs"]["positive"] = ["10", 0]
    graph["5"]["inputs"]["negative"] = ["10", 1]
    report = check_graph(graph, definitions)

    assert report.errors == ()
    assert report.unused_nodes == ()


def test_value_below_minimum(definitions: NodeDefinitions) -> None:
    graph = txt2img(steps=0)
    found = findings(check_graph(graph, definitions), "value_out_of_range")

    assert len(found) == 1
    assert found[0].severity is Severity.ERROR
    assert found[0].node_ids == ("5",)
    assert "below the minimum 1" in found[0].message


def test_value_above_maximum(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["denoise"] = 1.5
    found = findings(check_graph(graph, definitions), "value_out_of_range")

    assert len(found) == 1
    assert "above the maximum 1" in found[0].message
    assert found[0].fix == "set 'denoise' to 1 or less"


def test_value_not_a_number(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["cfg"] = "high"
    found = findings(check_graph(graph, definitions), "invalid_value")

    assert len(found) == 1
    assert found[0].severity is Severity.ERROR


def test_numeric_string_accepted(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["cfg"] = "7.5"

    assert check_graph(graph, definitions).errors == ()


def test_combo_value_not_in_choices(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["sampler_name"] = "no_such_sampler"
    found = findings(check_graph(graph, definitions), "value_not_in_choices")

    assert len(found) == 1
    assert found[0].severity is Severity.ERROR
    assert "'no_such_sampler'" in found[0].message


def test_model_combo_not_checked(definitions: NodeDefinitions) -> None:
    report = check_graph(txt2img("any_model.safetensors"), definitions, for_cloud=False)

    assert report.findings == ()


def test_uploaded_image_combo_not_checked(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["8"] = {"class_type": "LoadImage", "inputs": {"image": "my_photo.png"}}
    graph["9"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}

    assert check_graph(graph, definitions).errors == ()


def test_unknown_node_warning(definitions: NodeDefinitions) -> None:
    graph = with_node(txt2img(), "8", "FancyCustomUpscaler", image=["6", 0])
    graph["7"]["inputs"]["images"] = ["8", 0]
    found = findings(check_graph(graph, definitions), "unknown_node")

    assert len(found) == 1
    assert found[0].severity is Severity.WARNING
    assert found[0].node_ids == ("8",)


def test_unknown_node_strict_error(definitions: NodeDefinitions) -> None:
    graph = with_node(txt2img(), "8", "FancyCustomUpscaler", image=["6", 0])
    graph["7"]["inputs"]["images"] = ["8", 0]
    found = findings(check_graph(graph, definitions, strict_classes=True), "unknown_node")

    assert found[0].severity is Severity.ERROR


def test_unknown_node_without_definitions() -> None:
    graph = with_node(txt2img(), "8", "FancyCustomUpscaler", image=["6", 0])
    graph["7"]["inputs"]["images"] = ["8", 0]

    assert findings(check_graph(graph, None), "unknown_node") == []


def test_output_node_from_definitions(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["7"] = {
        "class_type": "SaveLatent",
        "inputs": {"samples": ["5", 0], "filename_prefix": "x"},
    }
    del graph["6"]

    assert definitions.is_output_node("SaveLatent")
    assert findings(check_graph(graph, definitions), "no_output_node") == []
    assert findings(check_graph(graph, None), "no_output_node") != []


def test_remove_unused_with_definitions(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["7"] = {
        "class_type": "SaveLatent",
        "inputs": {"samples": ["5", 0], "filename_prefix": "x"},
    }

    assert sorted(remove_unused_nodes(graph, definitions)) == ["1", "2", "3", "4", "5", "7"]


def test_largest_seed_in_range(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["seed"] = 2**64 - 1

    assert check_graph(graph, definitions).errors == ()


def test_seed_past_maximum(definitions: NodeDefinitions) -> None:
    graph = txt2img()
    graph["5"]["inputs"]["seed"] = 2**64

    assert [finding.code for finding in check_graph(graph, definitions).errors] == [
        "value_out_of_range"
    ]
