"""Conversion of editor-format workflows to API format, checked against ComfyUI's own rules.

The small workflows are written inline. Node types and widget orders come from the bundled
definitions, ComfyUI 0.8.0's /object_info. The expected API graphs are what ComfyUI's editor
queues for the same workflow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.workflows.convert import (
    FRONTEND_ONLY_NODE_TYPES,
    ConversionError,
    editor_to_api,
    is_editor_workflow,
)
from cmfy_desk.workflows.definitions import BUNDLED_SOURCE, NodeDefinitions
from cmfy_desk.workflows.graph import looks_like_api_graph, validate_graph

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def definitions() -> NodeDefinitions:
    return NodeDefinitions.bundled()


# Builders for editor-format workflows, so each test shows only what it is about.


def socket(name: str, kind: str, link: int | None = None) -> dict[str, Any]:
    return {"name": name, "type": kind, "link": link}


def widget_socket(name: str, kind: str, link: int | None) -> dict[str, Any]:
    return {"name": name, "type": kind, "link": link, "widget": {"name": name}}


def output(name: str, kind: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "links": []}


def node(
    node_id: int,
    kind: str,
    widgets: list[Any] | dict[str, Any] | None = None,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    mode: int = 0,
    title: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": node_id,
        "type": kind,
        "mode": mode,
        "inputs": inputs or [],
        "outputs": outputs or [],
        "widgets_values": widgets if widgets is not None else [],
    }
    if title is not None:
        result["title"] = title
    return result


def workflow(
    nodes: list[dict[str, Any]],
    links: list[list[Any]],
    subgraphs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"nodes": nodes, "links": links, "version": 0.4}
    if subgraphs is not None:
        result["definitions"] = {"subgraphs": subgraphs}
    return result


def checkpoint(node_id: int = 4, mode: int = 0) -> dict[str, Any]:
    return node(
        node_id,
        "CheckpointLoaderSimple",
        ["model.safetensors"],
        outputs=[output("MODEL", "MODEL"), output("CLIP", "CLIP"), output("VAE", "VAE")],
        mode=mode,
    )


def save_image(node_id: int, link: int) -> dict[str, Any]:
    return node(node_id, "SaveImage", ["ComfyUI"], inputs=[socket("images", "IMAGE", link)])


def txt2img(
    extra_nodes: list[dict[str, Any]] | None = None,
    extra_links: list[list[Any]] | None = None,
    model_link: int = 1,
) -> dict[str, Any]:
    """A complete text-to-image graph: checkpoint 4, prompts 6/7, latent 5, sampler 3,
    decode 8, save 9. The sampler's model comes from link ``model_link``."""
    nodes = [
        checkpoint(),
        node(
            6,
            "CLIPTextEncode",
            ["a cat"],
            inputs=[socket("clip", "CLIP", 2)],
            outputs=[output("CONDITIONING", "CONDITIONING")],
        ),
        node(
            7,
            "CLIPTextEncode",
            ["blurry"],
            inputs=[socket("clip", "CLIP", 3)],
            outputs=[output("CONDITIONING", "CONDITIONING")],
        ),
        node(5, "EmptyLatentImage", [512, 768, 1], outputs=[output("LATENT", "LATENT")]),
        node(
            3,
            "KSampler",
            [42, "randomize", 20, 7.5, "euler", "normal", 1],
            inputs=[
                socket("model", "MODEL", model_link),
                socket("positive", "CONDITIONING", 4),
                socket("negative", "CONDITIONING", 5),
                socket("latent_image", "LATENT", 6),
            ],
            outputs=[output("LATENT", "LATENT")],
        ),
        node(
            8,
            "VAEDecode",
            inputs=[socket("samples", "LATENT", 7), socket("vae", "VAE", 8)],
            outputs=[output("IMAGE", "IMAGE")],
        ),
        save_image(9, 9),
    ]
    links = [
        [1, 4, 0, 3, 0, "MODEL"],
        [2, 4, 1, 6, 0, "CLIP"],
        [3, 4, 1, 7, 0, "CLIP"],
        [4, 6, 0, 3, 1, "CONDITIONING"],
        [5, 7, 0, 3, 2, "CONDITIONING"],
        [6, 5, 0, 3, 3, "LATENT"],
        [7, 3, 0, 8, 0, "LATENT"],
        [8, 4, 2, 8, 1, "VAE"],
        [9, 8, 0, 9, 0, "IMAGE"],
    ]
    if model_link != 1:
        links = [link for link in links if link[0] != 1]
    return workflow(nodes + (extra_nodes or []), links + (extra_links or []))


# Widget values


def test_widgets_mapped_in_definition_order(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(txt2img(), definitions)
    assert graph["3"]["inputs"] == {
        "seed": 42,
        "steps": 20,
        "cfg": 7.5,
        "sampler_name": "euler",
        "scheduler": "normal",
        "denoise": 1,
        "model": ["4", 0],
        "positive": ["6", 0],
        "negative": ["7", 0],
        "latent_image": ["5", 0],
    }
    assert graph["5"]["inputs"] == {"width": 512, "height": 768, "batch_size": 1}


def test_widgets_control_after_generate_skipped(definitions: NodeDefinitions) -> None:
    sampler = node(
        3,
        "KSamplerAdvanced",
        ["enable", 123, "fixed", 25, 8, "euler", "normal", 0, 20, "enable"],
        inputs=[socket("model", "MODEL", 1)],
        outputs=[output("LATENT", "LATENT")],
    )
    graph = editor_to_api(
        workflow([checkpoint(), sampler, save_image(9, 2)], [[1, 4, 0, 3, 0, "MODEL"]]),
        definitions,
    )
    inputs = graph["3"]["inputs"]
    assert inputs["add_noise"] == "enable"
    assert inputs["noise_seed"] == 123
    assert inputs["steps"] == 25
    assert inputs["end_at_step"] == 20
    assert inputs["return_with_leftover_noise"] == "enable"
    assert "fixed" not in inputs.values()


def test_widgets_upload_values_skipped(definitions: NodeDefinitions) -> None:
    nodes = [
        node(1, "LoadImage", ["photo.png", "image"], outputs=[output("IMAGE", "IMAGE")]),
        node(2, "LoadImageMask", ["mask.png", "red", "image"], outputs=[output("MASK", "MASK")]),
        save_image(9, 1),
    ]
    graph = editor_to_api(workflow(nodes, [[1, 1, 0, 9, 0, "IMAGE"]]), definitions)
    assert graph["1"]["inputs"] == {"image": "photo.png"}
    assert graph["2"]["inputs"] == {"image": "mask.png", "channel": "red"}


def test_widgets_missing_values_get_defaults(definitions: NodeDefinitions) -> None:
    nodes = [
        node(5, "EmptyLatentImage", [1024], outputs=[output("LATENT", "LATENT")]),
        node(8, "VAEDecode", inputs=[socket("samples", "LATENT", 1)]),
        save_image(9, 2),
    ]
    links = [[1, 5, 0, 8, 0, "LATENT"], [2, 8, 0, 9, 0, "IMAGE"]]
    graph = editor_to_api(workflow(nodes, links), definitions)
    assert graph["5"]["inputs"] == {"width": 1024, "height": 512, "batch_size": 1}


def test_widgets_extra_values_ignored(definitions: NodeDefinitions) -> None:
    nodes = [
        node(5, "EmptyLatentImage", [640, 480, 2, "added later"]),
        save_image(9, 1),
        node(1, "LoadImage", ["a.png", "image"], outputs=[output("IMAGE", "IMAGE")]),
    ]
    graph = editor_to_api(workflow(nodes, [[1, 1, 0, 9, 0, "IMAGE"]]), definitions)
    assert graph["5"]["inputs"] == {"width": 640, "height": 480, "batch_size": 2}


def test_widgets_dict_form(definitions: NodeDefinitions) -> None:
    nodes = [
        node(5, "EmptyLatentImage", {"height": 300, "width": 200, "preview": {"hidden": True}}),
        node(1, "LoadImage", ["a.png", "image"], outputs=[output("IMAGE", "IMAGE")]),
        save_image(9, 1),
    ]
    graph = editor_to_api(workflow(nodes, [[1, 1, 0, 9, 0, "IMAGE"]]), definitions)
    assert graph["5"]["inputs"] == {"width": 200, "height": 300, "batch_size": 1}


def test_widgets_list_value_wrapped(definitions: NodeDefinitions) -> None:
    nodes = [
        node(6, "CLIPTextEncode", [["a", "b"]], inputs=[socket("clip", "CLIP", None)]),
        node(1, "LoadImage", ["a.png", "image"], outputs=[output("IMAGE", "IMAGE")]),
        save_image(9, 1),
    ]
    graph = editor_to_api(workflow(nodes, [[1, 1, 0, 9, 0, "IMAGE"]]), definitions)
    assert graph["6"]["inputs"]["text"] == {"__value__": ["a", "b"]}


def test_widgets_misaligned_number_rejected(definitions: NodeDefinitions) -> None:
    nodes = [node(5, "EmptyLatentImage", ["wide", 512, 1]), save_image(9, 1)]
    with pytest.raises(ConversionError) as caught:
        editor_to_api(workflow(nodes, []), definitions)
    assert caught.value.node_id == "5"
    assert caught.value.class_type == "EmptyLatentImage"
    assert "'width'" in caught.value.reason
    assert str(caught.value).startswith("Node 5 (EmptyLatentImage): ")


def test_widgets_legacy_force_input_value_dropped(definitions: NodeDefinitions) -> None:
    # negative_prompt became socket-only (forceInput); older saves still hold a value for it.
    spec = definitions.get("StabilityStableImageUltraNode")
    assert spec is not None
    widgets = spec.widget_inputs()
    legacy = [entry for entry in spec.inputs if entry.is_widget or entry.options.get("forceInput")]
    values: list[Any] = []
    for entry in legacy:
        values.append("" if entry.name == "negative_prompt" else entry.default)
        if entry.control_after_generate:
            values.append("fixed")
    values[0] = "a red fox"
    nodes = [node(2, "StabilityStableImageUltraNode", values), save_image(9, 1)]
    graph = editor_to_api(workflow(nodes, [[1, 2, 0, 9, 0, "IMAGE"]]), definitions)
    assert "negative_prompt" not in graph["2"]["inputs"]
    assert graph["2"]["inputs"][widgets[0].name] == "a red fox"


def test_widgets_dynamic_combo(definitions: NodeDefinitions) -> None:
    resize = node(
        2,
        "ResizeImageMaskNode",
        ["scale dimensions", 1024, 768, "center", "lanczos"],
        inputs=[socket("input", "IMAGE,MASK", 1)],
        outputs=[output("resized", "IMAGE")],
    )
    nodes = [
        node(1, "LoadImage", ["a.png", "image"], outputs=[output("IMAGE", "IMAGE")]),
        resize,
        save_image(9, 2),
    ]
    links = [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 9, 0, "IMAGE"]]
    graph = editor_to_api(workflow(nodes, links), definitions)
    assert graph["2"]["inputs"] == {
        "resize_type": "scale dimensions",
        "resize_type.width": 1024,
        "resize_type.height": 768,
        "resize_type.crop": "center",
        "scale_method": "lanczos",
        "input": ["1", 0],
    }


def test_converted_widget_takes_link(definitions: NodeDefinitions) -> None:
    steps = node(20, "PrimitiveInt", [12, "fixed"], outputs=[output("INT", "INT")])
    data = txt2img(extra_nodes=[steps], extra_links=[[20, 20, 0, 3, 4, "INT"]])
    sampler = next(entry for entry in data["nodes"] if entry["id"] == 3)
    sampler["inputs"].append(widget_socket("steps", "INT", 20))
    graph = editor_to_api(data, definitions)
    assert graph["3"]["inputs"]["steps"] == ["20", 0]
    assert graph["20"]["inputs"] == {"value": 12}


def test_widget_input_without_link_keeps_value(definitions: NodeDefinitions) -> None:
    data = txt2img()
    sampler = next(entry for entry in data["nodes"] if entry["id"] == 3)
    sampler["inputs"].append(widget_socket("steps", "INT", None))
    graph = editor_to_api(data, definitions)
    assert graph["3"]["inputs"]["steps"] == 20


# Node modes


def test_muted_node_dropped(definitions: NodeDefinitions) -> None:
    preview = node(10, "PreviewImage", inputs=[socket("images", "IMAGE", 10)], mode=2)
    graph = editor_to_api(txt2img([preview], [[10, 8, 0, 10, 0, "IMAGE"]]), definitions)
    assert "10" not in graph
    assert "9" in graph


def test_muted_source_optional_input_dropped(definitions: NodeDefinitions) -> None:
    apply = node(
        11,
        "ControlNetApplyAdvanced",
        [1.0, 0.0, 1.0],
        inputs=[
            socket("positive", "CONDITIONING", 11),
            socket("negative", "CONDITIONING", 12),
            socket("control_net", "CONTROL_NET", 13),
            socket("image", "IMAGE", 14),
            socket("vae", "VAE", 15),
        ],
        outputs=[output("positive", "CONDITIONING"), output("negative", "CONDITIONING")],
    )

    controlnet = node(
        12, "ControlNetLoader", ["cn.safetensors"], outputs=[output("C", "CONTROL_NET")]
    )
    image = node(13, "LoadImage", ["pose.png", "image"], outputs=[output("IMAGE", "IMAGE")])
    muted_vae = node(14, "VAELoader", ["vae.safetensors"], outputs=[output("VAE", "VAE")], mode=2)
    data = txt2img(
        [apply, controlnet, image, muted_vae],
        [
            [11, 6, 0, 11, 0, "CONDITIONING"],
            [12, 7, 0, 11, 1, "CONDITIONING"],
            [13, 12, 0, 11, 2, "CONTROL_NET"],
            [14, 13, 0, 11, 3, "IMAGE"],
            [15, 14, 0, 11, 4, "VAE"],
            [16, 11, 0, 3, 1, "CONDITIONING"],
        ],
    )
    sampler = next(entry for entry in data["nodes"] if entry["id"] == 3)
    sampler["inputs"][1]["link"] = 16

    graph = editor_to_api(data, definitions)

    assert "14" not in graph
    assert "vae" not in graph["11"]["inputs"]
    assert graph["11"]["inputs"]["image"] == ["13", 0]
    assert graph["3"]["inputs"]["positive"] == ["11", 0]


def test_muted_source_required_input_rejected(definitions: NodeDefinitions) -> None:
    data = txt2img()
    data["nodes"][0]["mode"] = 2
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id in {"3", "6", "7", "8"}
    assert "muted" in caught.value.reason
    assert "required input" in caught.value.reason


def test_muted_branch_without_output_accepted(definitions: NodeDefinitions) -> None:
    # The server only checks nodes that feed an output node, so a dead branch may lose inputs.
    loader = node(20, "VAELoader", ["vae.safetensors"], outputs=[output("VAE", "VAE")], mode=2)
    decode = node(
        21, "VAEDecode", inputs=[socket("samples", "LATENT", 20), socket("vae", "VAE", 21)]
    )
    data = txt2img([loader, decode], [[20, 3, 0, 21, 0, "LATENT"], [21, 20, 0, 21, 1, "VAE"]])
    graph = editor_to_api(data, definitions)
    assert graph["21"]["inputs"] == {"samples": ["3", 0]}


def lora_chain(lora_mode: int) -> dict[str, Any]:
    """Checkpoint 4 → LoRA 10 → sampler 3 (model) and prompts 6/7 (clip)."""
    lora = node(
        10,
        "LoraLoader",
        ["style.safetensors", 0.8, 0.6],
        inputs=[socket("model", "MODEL", 20), socket("clip", "CLIP", 21)],
        outputs=[output("MODEL", "MODEL"), output("CLIP", "CLIP")],
        mode=lora_mode,
    )
    data = txt2img(
        [lora],
        [
            [20, 4, 0, 10, 0, "MODEL"],
            [21, 4, 1, 10, 1, "CLIP"],
            [22, 10, 0, 3, 0, "MODEL"],
        ],
        model_link=22,
    )
    for entry in data["nodes"]:
        if entry["id"] in (6, 7):
            entry["inputs"][0]["link"] = 30 + entry["id"]
    data["links"] = [link for link in data["links"] if link[0] not in (2, 3)]
    data["links"] += [[36, 10, 1, 6, 0, "CLIP"], [37, 10, 1, 7, 0, "CLIP"]]
    return data


def test_lora_chain_active(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(lora_chain(0), definitions)
    assert graph["3"]["inputs"]["model"] == ["10", 0]
    assert graph["6"]["inputs"]["clip"] == ["10", 1]
    assert graph["10"]["inputs"]["strength_model"] == 0.8


def test_bypassed_node_wired_through(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(lora_chain(4), definitions)
    assert "10" not in graph
    assert graph["3"]["inputs"]["model"] == ["4", 0]
    assert graph["6"]["inputs"]["clip"] == ["4", 1]
    assert graph["7"]["inputs"]["clip"] == ["4", 1]


def test_bypassed_node_matches_type_not_slot(definitions: NodeDefinitions) -> None:
    # A bypassed sampler passes its LATENT input (slot 3) to its LATENT output (slot 0).
    data = txt2img()
    next(entry for entry in data["nodes"] if entry["id"] == 3)["mode"] = 4
    graph = editor_to_api(data, definitions)
    assert "3" not in graph
    assert graph["8"]["inputs"]["samples"] == ["5", 0]


def test_bypassed_node_without_matching_type_rejected(definitions: NodeDefinitions) -> None:
    # VAEDecode's IMAGE output has no IMAGE input to pass on, and SaveImage needs images.
    data = txt2img()
    next(entry for entry in data["nodes"] if entry["id"] == 8)["mode"] = 4
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id == "9"
    assert "bypassed" in caught.value.reason
    assert "IMAGE" in caught.value.reason


def test_bypassed_chain_followed(definitions: NodeDefinitions) -> None:
    invert_a = node(
        20,
        "ImageInvert",
        inputs=[socket("image", "IMAGE", 20)],
        outputs=[output("IMAGE", "IMAGE")],
        mode=4,
    )
    invert_b = node(
        21,
        "ImageInvert",
        inputs=[socket("image", "IMAGE", 21)],
        outputs=[output("IMAGE", "IMAGE")],
        mode=4,
    )
    data = txt2img([invert_a, invert_b], [[20, 8, 0, 20, 0, "IMAGE"], [21, 20, 0, 21, 0, "IMAGE"]])
    save = next(entry for entry in data["nodes"] if entry["id"] == 9)
    save["inputs"][0]["link"] = 22
    data["links"] = [link for link in data["links"] if link[0] != 9]
    data["links"].append([22, 21, 0, 9, 0, "IMAGE"])
    graph = editor_to_api(data, definitions)
    assert graph["9"]["inputs"]["images"] == ["8", 0]


# Editor-only nodes


def reroute(node_id: int, link_in: int | None, kind: str = "*") -> dict[str, Any]:
    return node(
        node_id, "Reroute", inputs=[socket("", kind, link_in)], outputs=[output("", "MODEL")]
    )


def test_reroute_chain_followed(definitions: NodeDefinitions) -> None:
    data = txt2img(
        [reroute(30, 30), reroute(31, 31), reroute(32, 32)],
        [
            [30, 4, 0, 30, 0, "MODEL"],
            [31, 30, 0, 31, 0, "MODEL"],
            [32, 31, 0, 32, 0, "MODEL"],
            [33, 32, 0, 3, 0, "MODEL"],
        ],
        model_link=33,
    )
    graph = editor_to_api(data, definitions)
    assert graph["3"]["inputs"]["model"] == ["4", 0]
    assert all(entry["class_type"] != "Reroute" for entry in graph.values())


def test_reroute_unconnected_rejected(definitions: NodeDefinitions) -> None:
    data = txt2img([reroute(30, None)], [[33, 30, 0, 3, 0, "MODEL"]], model_link=33)
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id == "3"
    assert "Reroute" in caught.value.reason


def test_primitive_value_fills_every_target(definitions: NodeDefinitions) -> None:
    primitive = node(
        40,
        "PrimitiveNode",
        [777, "fixed"],
        outputs=[{"name": "INT", "type": "INT", "links": [40, 41], "widget": {"name": "seed"}}],
    )
    second = node(
        41,
        "KSampler",
        [5, "randomize", 10, 6, "euler", "normal", 0.5],
        inputs=[
            socket("model", "MODEL", 42),
            socket("positive", "CONDITIONING", 43),
            socket("negative", "CONDITIONING", 44),
            socket("latent_image", "LATENT", 45),
            widget_socket("seed", "INT", 41),
        ],
        outputs=[output("LATENT", "LATENT")],
    )
    data = txt2img(
        [primitive, second],
        [
            [40, 40, 0, 3, 4, "INT"],
            [41, 40, 0, 41, 4, "INT"],
            [42, 4, 0, 41, 0, "MODEL"],
            [43, 6, 0, 41, 1, "CONDITIONING"],
            [44, 7, 0, 41, 2, "CONDITIONING"],
            [45, 3, 0, 41, 3, "LATENT"],
        ],
    )
    next(entry for entry in data["nodes"] if entry["id"] == 3)["inputs"].append(
        widget_socket("seed", "INT", 40)
    )
    graph = editor_to_api(data, definitions)
    assert graph["3"]["inputs"]["seed"] == 777
    assert graph["41"]["inputs"]["seed"] == 777
    assert graph["41"]["inputs"]["steps"] == 10
    assert "40" not in graph


def test_notes_ignored(definitions: NodeDefinitions) -> None:
    notes = [node(50, "Note", ["remember"]), node(51, "MarkdownNote", ["# Title"])]
    graph = editor_to_api(txt2img(notes), definitions)
    assert "50" not in graph
    assert "51" not in graph
    assert len(graph) == 7


def test_frontend_only_types_not_in_definitions(definitions: NodeDefinitions) -> None:
    assert [kind for kind in FRONTEND_ONLY_NODE_TYPES if kind in definitions] == []


def test_set_and_get_nodes_followed(definitions: NodeDefinitions) -> None:
    setter = node(60, "SetNode", ["model"], inputs=[socket("MODEL", "MODEL", 60)])
    getter = node(61, "GetNode", ["model"], outputs=[output("MODEL", "MODEL")])
    data = txt2img(
        [setter, getter], [[60, 4, 0, 60, 0, "MODEL"], [61, 61, 0, 3, 0, "MODEL"]], model_link=61
    )
    graph = editor_to_api(data, definitions)
    assert graph["3"]["inputs"]["model"] == ["4", 0]


# Subgraphs


def encoder_subgraph(subgraph_id: str = "sg-encode") -> dict[str, Any]:
    """A subgraph with input 'clip' and a promoted 'text' widget, and one CONDITIONING output."""
    return {
        "id": subgraph_id,
        "name": "Encode",
        "inputNode": {"id": -10},
        "outputNode": {"id": -20},
        "inputs": [
            {"id": "a", "name": "clip", "type": "CLIP", "linkIds": [1]},
            {"id": "b", "name": "text", "type": "STRING", "linkIds": [2]},
        ],
        "outputs": [{"id": "c", "name": "CONDITIONING", "type": "CONDITIONING", "linkIds": [3]}],
        "widgets": [],
        "nodes": [
            node(
                1,
                "CLIPTextEncode",
                ["inner text"],
                inputs=[socket("clip", "CLIP", 1), widget_socket("text", "STRING", 2)],
                outputs=[output("CONDITIONING", "CONDITIONING")],
                title="Inner encoder",
            ),
        ],
        "links": [
            {
                "id": 1,
                "origin_id": -10,
                "origin_slot": 0,
                "target_id": 1,
                "target_slot": 0,
                "type": "CLIP",
            },
            {
                "id": 2,
                "origin_id": -10,
                "origin_slot": 1,
                "target_id": 1,
                "target_slot": 1,
                "type": "STRING",
            },
            {
                "id": 3,
                "origin_id": 1,
                "origin_slot": 0,
                "target_id": -20,
                "target_slot": 0,
                "type": "CONDITIONING",
            },
        ],
    }


def subgraph_node(
    node_id: int, clip_link: int, widgets: list[Any], mode: int = 0
) -> dict[str, Any]:
    return node(
        node_id,
        "sg-encode",
        widgets,
        inputs=[socket("clip", "CLIP", clip_link), widget_socket("text", "STRING", None)],
        outputs=[output("CONDITIONING", "CONDITIONING")],
        mode=mode,
    )


def with_encoder_subgraph(widgets: list[Any], mode: int = 0) -> dict[str, Any]:
    data = txt2img(
        [subgraph_node(70, 70, widgets, mode)],
        [[70, 4, 1, 70, 0, "CLIP"], [71, 70, 0, 3, 1, "CONDITIONING"]],
    )
    next(entry for entry in data["nodes"] if entry["id"] == 3)["inputs"][1]["link"] = 71
    data["links"] = [link for link in data["links"] if link[0] != 4]
    data["definitions"] = {"subgraphs": [encoder_subgraph()]}
    return data


def test_subgraph_flattened_with_compound_ids(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(with_encoder_subgraph(["outer text"]), definitions)
    assert "70" not in graph
    assert graph["70:1"]["class_type"] == "CLIPTextEncode"
    assert graph["70:1"]["inputs"]["clip"] == ["4", 1]
    assert graph["3"]["inputs"]["positive"] == ["70:1", 0]
    assert graph["70:1"]["_meta"]["title"] == "Inner encoder"


def test_subgraph_promoted_widget_from_outer_node(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(with_encoder_subgraph(["outer text"]), definitions)
    assert graph["70:1"]["inputs"]["text"] == "outer text"


def test_subgraph_proxy_widget_keeps_inner_value(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(with_encoder_subgraph([]), definitions)
    assert graph["70:1"]["inputs"]["text"] == "inner text"


def test_subgraph_instances_kept_apart(definitions: NodeDefinitions) -> None:
    data = with_encoder_subgraph(["first"])
    data["nodes"].append(subgraph_node(80, 80, ["second"]))
    data["links"] += [[80, 4, 1, 80, 0, "CLIP"], [81, 80, 0, 3, 2, "CONDITIONING"]]
    next(entry for entry in data["nodes"] if entry["id"] == 3)["inputs"][2]["link"] = 81
    graph = editor_to_api(data, definitions)
    assert graph["70:1"]["inputs"]["text"] == "first"
    assert graph["80:1"]["inputs"]["text"] == "second"
    assert graph["3"]["inputs"]["negative"] == ["80:1", 0]


def test_subgraph_muted_contents_left_out(definitions: NodeDefinitions) -> None:
    data = with_encoder_subgraph(["x"], mode=2)
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id == "3"
    assert "70" in caught.value.reason


def test_subgraph_bypassed_wired_through(definitions: NodeDefinitions) -> None:
    # A bypassed subgraph node has no CONDITIONING input, so the sampler loses 'positive'.
    data = with_encoder_subgraph(["x"], mode=4)
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert "bypassed" in caught.value.reason
    assert "70:1" not in json.dumps(caught.value.reason)


def model_subgraph(
    inner_nodes: list[dict[str, Any]], links: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": "sg-model",
        "name": "Model patch",
        "inputNode": {"id": -10},
        "outputNode": {"id": -20},
        "inputs": [{"id": "a", "name": "model", "type": "MODEL", "linkIds": [1]}],
        "outputs": [{"id": "b", "name": "MODEL", "type": "MODEL", "linkIds": [2]}],
        "nodes": inner_nodes,
        "links": links,
    }


def with_model_subgraph(mode: int, passthrough: bool = False) -> dict[str, Any]:
    lora = node(
        1,
        "LoraLoaderModelOnly",
        ["detail.safetensors", 0.5],
        inputs=[socket("model", "MODEL", 1)],
        outputs=[output("MODEL", "MODEL")],
    )
    if passthrough:
        definition = model_subgraph([], [_inner_link(2, -10, 0, -20, 0, "MODEL")])
    else:
        definition = model_subgraph(
            [lora],
            [_inner_link(1, -10, 0, 1, 0, "MODEL"), _inner_link(2, 1, 0, -20, 0, "MODEL")],
        )
    wrapper = node(
        70,
        "sg-model",
        [],
        inputs=[socket("model", "MODEL", 70)],
        outputs=[output("MODEL", "MODEL")],
        mode=mode,
    )
    data = txt2img(
        [wrapper], [[70, 4, 0, 70, 0, "MODEL"], [71, 70, 0, 3, 0, "MODEL"]], model_link=71
    )
    data["definitions"] = {"subgraphs": [definition]}
    return data


def _inner_link(
    link_id: int, origin: int, origin_slot: int, target: int, target_slot: int, kind: str
) -> dict[str, Any]:
    return {
        "id": link_id,
        "origin_id": origin,
        "origin_slot": origin_slot,
        "target_id": target,
        "target_slot": target_slot,
        "type": kind,
    }


def test_subgraph_model_patch_active(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(with_model_subgraph(0), definitions)
    assert graph["3"]["inputs"]["model"] == ["70:1", 0]
    assert graph["70:1"]["inputs"] == {
        "lora_name": "detail.safetensors",
        "strength_model": 0.5,
        "model": ["4", 0],
    }


def test_subgraph_bypassed_passes_matching_input(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(with_model_subgraph(4), definitions)
    assert graph["3"]["inputs"]["model"] == ["4", 0]
    assert "70:1" not in graph


def test_subgraph_input_wired_to_output(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(with_model_subgraph(0, passthrough=True), definitions)
    assert graph["3"]["inputs"]["model"] == ["4", 0]


def test_nested_subgraph_ids(definitions: NodeDefinitions) -> None:
    outer = {
        "id": "sg-outer",
        "name": "Outer",
        "inputNode": {"id": -10},
        "outputNode": {"id": -20},
        "inputs": [{"id": "a", "name": "clip", "type": "CLIP", "linkIds": [1]}],
        "outputs": [{"id": "c", "name": "CONDITIONING", "type": "CONDITIONING", "linkIds": [2]}],
        "nodes": [subgraph_node(5, 1, ["deep text"])],
        "links": [
            {
                "id": 1,
                "origin_id": -10,
                "origin_slot": 0,
                "target_id": 5,
                "target_slot": 0,
                "type": "CLIP",
            },
            {
                "id": 2,
                "origin_id": 5,
                "origin_slot": 0,
                "target_id": -20,
                "target_slot": 0,
                "type": "CONDITIONING",
            },
        ],
    }
    data = with_encoder_subgraph(["x"])
    wrapper = next(entry for entry in data["nodes"] if entry["id"] == 70)
    wrapper["type"] = "sg-outer"
    wrapper["inputs"] = [socket("clip", "CLIP", 70)]
    data["definitions"] = {"subgraphs": [outer, encoder_subgraph()]}
    graph = editor_to_api(data, definitions)
    assert graph["70:5:1"]["inputs"]["clip"] == ["4", 1]
    assert graph["70:5:1"]["inputs"]["text"] == "deep text"
    assert graph["3"]["inputs"]["positive"] == ["70:5:1", 0]


def test_subgraph_containing_itself_rejected(definitions: NodeDefinitions) -> None:
    data = with_encoder_subgraph(["x"])
    looping = encoder_subgraph()
    looping["nodes"].append(subgraph_node(9, 1, []))
    data["definitions"] = {"subgraphs": [looping]}
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert "contains itself" in caught.value.reason


# Errors and metadata


def test_unknown_class_rejected(definitions: NodeDefinitions) -> None:
    data = txt2img([node(90, "FancyUpscaler", [2.0])])
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id == "90"
    assert caught.value.class_type == "FancyUpscaler"
    assert "definitions" in caught.value.reason
    assert "custom node" in caught.value.reason
    assert str(caught.value).startswith("Node 90 (FancyUpscaler): ")


def test_unknown_class_muted_accepted(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(txt2img([node(90, "FancyUpscaler", [2.0], mode=2)]), definitions)
    assert "90" not in graph


def test_group_node_rejected(definitions: NodeDefinitions) -> None:
    data = txt2img([node(91, "workflow>My group", [1, 2])])
    data["extra"] = {"groupNodes": {"My group": {"nodes": [], "links": []}}}
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id == "91"
    assert "group node" in caught.value.reason


def test_editor_filled_widget_rejected(definitions: NodeDefinitions) -> None:
    load3d = node(92, "Load3D", ["toy.glb", "upload3dmodel", "", 1024, 1024])
    with pytest.raises(ConversionError) as caught:
        editor_to_api(txt2img([load3d]), definitions)
    assert caught.value.node_id == "92"
    assert "Export (API)" in caught.value.reason


def test_no_image_output_rejected(definitions: NodeDefinitions) -> None:
    data = txt2img()
    data["nodes"] = [entry for entry in data["nodes"] if entry["id"] != 9]
    with pytest.raises(ConversionError) as caught:
        editor_to_api(data, definitions)
    assert caught.value.node_id is None
    assert "SaveImage" in caught.value.reason


def test_everything_muted_rejected(definitions: NodeDefinitions) -> None:
    data = txt2img()
    for entry in data["nodes"]:
        entry["mode"] = 2
    with pytest.raises(ConversionError, match="nothing to run"):
        editor_to_api(data, definitions)


def test_not_editor_format_rejected(definitions: NodeDefinitions) -> None:
    with pytest.raises(ConversionError):
        editor_to_api({"3": {"class_type": "KSampler", "inputs": {}}}, definitions)


def test_titles_from_node_or_display_name(definitions: NodeDefinitions) -> None:
    data = txt2img()
    next(entry for entry in data["nodes"] if entry["id"] == 6)["title"] = "Positive"
    graph = editor_to_api(data, definitions)
    assert graph["6"]["_meta"] == {"title": "Positive"}
    assert graph["7"]["_meta"] == {"title": "CLIP Text Encode (Prompt)"}
    assert graph["3"]["_meta"] == {"title": "KSampler"}


def test_ids_kept_as_strings_in_file_order(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(txt2img(), definitions)
    assert list(graph) == ["4", "6", "7", "5", "3", "8", "9"]
    links = [
        value
        for entry in graph.values()
        for value in entry["inputs"].values()
        if isinstance(value, list)
    ]
    assert all(isinstance(value[0], str) for value in links)


def test_result_passes_validate_graph(definitions: NodeDefinitions) -> None:
    graph = editor_to_api(lora_chain(4), definitions)
    assert validate_graph(graph) is graph


def test_stale_link_id_treated_as_unconnected(definitions: NodeDefinitions) -> None:
    data = txt2img()
    next(entry for entry in data["nodes"] if entry["id"] == 6)["inputs"].append(
        widget_socket("text", "STRING", 999)
    )
    graph = editor_to_api(data, definitions)
    assert graph["6"]["inputs"]["text"] == "a cat"


# Format detection


def test_detects_editor_workflow() -> None:
    assert is_editor_workflow(txt2img())


def test_detects_nodes_without_links() -> None:
    assert is_editor_workflow({"nodes": [{"id": 1, "type": "Note"}]})


def test_rejects_api_graph() -> None:
    graph = {"3": {"class_type": "KSampler", "inputs": {}}}
    assert not is_editor_workflow(graph)
    assert looks_like_api_graph(graph)


def test_rejects_other_shapes() -> None:
    assert not is_editor_workflow([])
    assert not is_editor_workflow({"nodes": {}})
    assert not is_editor_workflow({"nodes": [{"class_type": "KSampler"}]})
    assert not is_editor_workflow({"nodes": [], "links": {}})


# The flux_schnell example workflow, node by node


def test_flux_schnell_matches_comfyui_export(definitions: NodeDefinitions) -> None:
    data = json.loads((DATA / "flux_schnell.json").read_text(encoding="utf-8"))
    expected = {
        "33": {
            "inputs": {"text": "", "clip": ["30", 1]},
            "class_type": "CLIPTextEncode",
            "_meta": {"title": "CLIP Text Encode (Negative Prompt)"},
        },
        "27": {
            "inputs": {"width": 1024, "height": 1024, "batch_size": 1},
            "class_type": "EmptySD3LatentImage",
            "_meta": {"title": "EmptySD3LatentImage"},
        },
        "8": {
            "inputs": {"samples": ["31", 0], "vae": ["30", 2]},
            "class_type": "VAEDecode",
            "_meta": {"title": "VAE Decode"},
        },
        "9": {
            "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]},
            "class_type": "SaveImage",
            "_meta": {"title": "Save Image"},
        },
        "31": {
            "inputs": {
                "seed": 173805153958730,
                "steps": 4,
                "cfg": 1,
                "sampler_name": "euler",
                "scheduler": "simple",
                "denoise": 1,
                "model": ["30", 0],
                "positive": ["6", 0],
                "negative": ["33", 0],
                "latent_image": ["27", 0],
            },
            "class_type": "KSampler",
            "_meta": {"title": "KSampler"},
        },
        "30": {
            "inputs": {"ckpt_name": "flux1-schnell-fp8.safetensors"},
            "class_type": "CheckpointLoaderSimple",
            "_meta": {"title": "Load Checkpoint"},
        },
        "6": {
            "inputs": {
                "text": data["nodes"][6]["widgets_values"][0],
                "clip": ["30", 1],
            },
            "class_type": "CLIPTextEncode",
            "_meta": {"title": "CLIP Text Encode (Positive Prompt)"},
        },
    }
    graph = editor_to_api(data, definitions)
    assert sorted(graph) == sorted(expected)
    for node_id, api_node in expected.items():
        assert graph[node_id] == api_node, node_id
    assert graph["6"]["inputs"]["text"].startswith("a bottle with a beautiful rainbow galaxy")


# Definitions


def test_bundled_definitions() -> None:
    bundled = NodeDefinitions.bundled()
    assert bundled.source == BUNDLED_SOURCE
    assert len(bundled) == 568
    assert "KSampler" in bundled
    assert bundled.is_output_node("SaveImage")
    assert not bundled.is_output_node("KSampler")
    assert bundled.get("NoSuchNode") is None
    assert NodeDefinitions.bundled() is bundled


def test_definition_inputs_in_comfyui_order() -> None:
    sampler = NodeDefinitions.bundled().get("KSampler")
    assert sampler is not None
    assert [spec.name for spec in sampler.inputs] == [
        "model",
        "seed",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "positive",
        "negative",
        "latent_image",
        "denoise",
    ]
    assert [spec.name for spec in sampler.widget_inputs()] == [
        "seed",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "denoise",
    ]
    seed = sampler.input("seed")
    assert seed is not None
    assert seed.control_after_generate
    assert seed.maximum == 2**64 - 1
    assert sampler.outputs == ("LATENT",)


def test_definition_legacy_seed_name_gets_control() -> None:
    data = {"Custom": {"input": {"required": {"seed": ["INT", {"default": 1}]}}, "output": []}}
    spec = NodeDefinitions.from_object_info(data, "test").get("Custom")
    assert spec is not None
    assert spec.inputs[0].control_after_generate


def test_definition_broken_entry_skipped() -> None:
    data = {
        "Good": {"input": {"required": {"x": ["FLOAT", {"default": 0.5}]}}, "output": ["FLOAT"]},
        "Bad": "not a definition",
    }
    loaded = NodeDefinitions.from_object_info(data, "http://127.0.0.1:8188")
    assert "Good" in loaded
    assert "Bad" not in loaded
    assert loaded.source == "http://127.0.0.1:8188"


def test_definitions_empty_rejected() -> None:
    with pytest.raises(ValueError, match="no node definitions"):
        NodeDefinitions.from_object_info({}, "empty.json")


def test_definitions_file_loaded(tmp_path: Path) -> None:
    path = tmp_path / "object_info.json"
    path.write_text(json.dumps({"Custom": {"input": {}, "output": ["IMAGE"]}}), encoding="utf-8")
    loaded = NodeDefinitions.from_file(path)
    assert "Custom" in loaded
    assert loaded.source == str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("{broken", "not valid JSON"),
        ("[1, 2]", "not a node definitions file"),
        ("{}", "no node definitions"),
    ],
)
def test_definitions_file_invalid(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "defs.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as caught:
        NodeDefinitions.from_file(path)
    assert str(path) in str(caught.value)
