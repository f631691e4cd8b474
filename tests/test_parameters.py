"""Finding, naming and setting the parameters of a workflow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import Graph
from cmfy_desk.workflows.parameters import (
    Parameter,
    ParameterKind,
    apply_values,
    describe_parameter,
    find_parameters,
    parse_assignment,
    resolve_parameter,
)


def bundled(stem: str) -> Graph:
    path = next(path for path in bundled_workflows() if path.stem == stem)
    graph: Graph = json.loads(path.read_text(encoding="utf-8"))
    return graph


@pytest.fixture(scope="module")
def definitions() -> NodeDefinitions:
    return NodeDefinitions.bundled()


def by_kind(parameters: list[Parameter], kind: ParameterKind) -> list[Parameter]:
    return [parameter for parameter in parameters if parameter.kind is kind]


def keys_of(parameters: list[Parameter], kind: ParameterKind) -> list[str]:
    return [parameter.key for parameter in by_kind(parameters, kind)]


def controlnet_graph() -> Graph:
    """Return a graph whose prompts reach the sampler through a reroute, a combine and a
    ControlNetApplyAdvanced node, with the negative prompt wired first in node order."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
        "2": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "ugly", "clip": ["1", 1]},
            "_meta": {"title": "Text A"},
        },
        "3": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "a fox", "clip": ["1", 1]},
            "_meta": {"title": "Text B"},
        },
        "4": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "in snow", "clip": ["1", 1]},
            "_meta": {"title": "Text C"},
        },
        "5": {
            "class_type": "ConditioningCombine",
            "inputs": {"conditioning_1": ["3", 0], "conditioning_2": ["4", 0]},
        },
        "6": {"class_type": "Reroute", "inputs": {"input": ["5", 0]}},
        "7": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "cn.safetensors"}},
        "8": {"class_type": "LoadImage", "inputs": {"image": "pose.png"}},
        "9": {
            "class_type": "ControlNetApplyAdvanced",
            "inputs": {
                "positive": ["6", 0],
                "negative": ["2", 0],
                "control_net": ["7", 0],
                "image": ["8", 0],
                "strength": 1.0,
                "start_percent": 0.0,
                "end_percent": 1.0,
            },
        },
        "10": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 768}},
        "11": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 5,
                "steps": 20,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["1", 0],
                "positive": ["9", 0],
                "negative": ["9", 1],
                "latent_image": ["10", 0],
            },
        },
        "12": {"class_type": "VAEDecode", "inputs": {"samples": ["11", 0], "vae": ["1", 2]}},
        "13": {"class_type": "SaveImage", "inputs": {"images": ["12", 0]}},
    }


@pytest.mark.parametrize("stem", ["sd15_txt2img", "sd15_lora_txt2img", "sdxl_txt2img"])
def test_bundled_parameters_found(stem: str, definitions: NodeDefinitions) -> None:
    graph = bundled(stem)
    parameters = find_parameters(graph, definitions)
    sampler_id = next(key for key, node in graph.items() if node["class_type"] == "KSampler")
    latent_id = next(key for key, node in graph.items() if node["class_type"] == "EmptyLatentImage")
    positive_id = graph[sampler_id]["inputs"]["positive"][0]
    negative_id = graph[sampler_id]["inputs"]["negative"][0]

    assert keys_of(parameters, ParameterKind.SEED) == [f"{sampler_id}.seed"]
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == [f"{positive_id}.text"]
    assert keys_of(parameters, ParameterKind.NEGATIVE_PROMPT) == [f"{negative_id}.text"]
    assert keys_of(parameters, ParameterKind.STEPS) == [f"{sampler_id}.steps"]
    assert keys_of(parameters, ParameterKind.CFG) == [f"{sampler_id}.cfg"]
    assert keys_of(parameters, ParameterKind.SAMPLER) == [f"{sampler_id}.sampler_name"]
    assert keys_of(parameters, ParameterKind.SCHEDULER) == [f"{sampler_id}.scheduler"]
    assert keys_of(parameters, ParameterKind.WIDTH) == [f"{latent_id}.width"]
    assert keys_of(parameters, ParameterKind.HEIGHT) == [f"{latent_id}.height"]
    assert keys_of(parameters, ParameterKind.BATCH_SIZE) == [f"{latent_id}.batch_size"]
    assert keys_of(parameters, ParameterKind.DENOISE) == [f"{sampler_id}.denoise"]
    models = by_kind(parameters, ParameterKind.MODEL)
    assert models
    assert all(str(model.value).startswith("https://huggingface.co/") for model in models)


def test_lora_workflow_lists_lora(definitions: NodeDefinitions) -> None:
    parameters = find_parameters(bundled("sd15_lora_txt2img"), definitions)
    models = by_kind(parameters, ParameterKind.MODEL)
    assert [model.input_name for model in models] == ["ckpt_name", "lora_name"]
    assert models[1].label == "Load LoRA lora_name"
    assert "lcm-lora" in models[1].value


def test_parameter_details_from_definitions(definitions: NodeDefinitions) -> None:
    parameters = {p.key: p for p in find_parameters(bundled("sd15_txt2img"), definitions)}
    steps = parameters["5.steps"]
    assert steps.value == 20
    assert steps.value_type == "int"
    assert steps.minimum == 1
    assert steps.label == "KSampler steps"
    assert parameters["5.cfg"].value_type == "float"
    sampler = parameters["5.sampler_name"]
    assert sampler.value_type == "choice"
    assert sampler.choices is not None
    assert "euler" in sampler.choices
    assert parameters["5.seed"].maximum == 2**64 - 1
    assert parameters["1.ckpt_name"].value_type == "text"
    assert parameters["1.ckpt_name"].choices is None


def test_parameters_without_definitions() -> None:
    parameters = {p.key: p for p in find_parameters(bundled("sd15_txt2img"))}
    assert parameters["5.steps"].value_type == "int"
    assert parameters["5.steps"].minimum is None
    assert parameters["5.cfg"].value_type == "float"
    assert parameters["5.sampler_name"].value_type == "choice"
    assert parameters["5.sampler_name"].choices is None
    assert parameters["5.seed"].minimum == 0
    assert parameters["2.text"].kind is ParameterKind.POSITIVE_PROMPT


def test_parameters_keep_graph_order(definitions: NodeDefinitions) -> None:
    keys = [p.key for p in find_parameters(bundled("sd15_txt2img"), definitions)]
    assert keys == [
        "1.ckpt_name",
        "2.text",
        "3.text",
        "4.width",
        "4.height",
        "4.batch_size",
        "5.seed",
        "5.steps",
        "5.cfg",
        "5.sampler_name",
        "5.scheduler",
        "5.denoise",
    ]


@pytest.mark.parametrize("with_definitions", [True, False], ids=["definitions", "heuristic"])
def test_prompts_through_conditioning_chain(
    with_definitions: bool, definitions: NodeDefinitions
) -> None:
    parameters = find_parameters(controlnet_graph(), definitions if with_definitions else None)
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == ["3.text", "4.text"]
    assert keys_of(parameters, ParameterKind.NEGATIVE_PROMPT) == ["2.text"]
    assert keys_of(parameters, ParameterKind.MODEL) == ["1.ckpt_name", "7.control_net_name"]


def test_prompt_from_string_primitive() -> None:
    graph = controlnet_graph()
    graph["20"] = {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a hare"}}
    graph["3"]["inputs"]["text"] = ["20", 0]
    parameters = find_parameters(graph)
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == ["4.text", "20.value"]


def test_unreached_encoder_uses_title() -> None:
    graph: Graph = {
        "1": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "bad", "clip": ["3", 1]},
            "_meta": {"title": "Negative"},
        },
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "good", "clip": ["3", 1]}},
        "3": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m"}},
    }
    parameters = find_parameters(graph)
    assert keys_of(parameters, ParameterKind.NEGATIVE_PROMPT) == ["1.text"]
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == ["2.text"]


def test_resolve_by_id() -> None:
    assert resolve_parameter(bundled("sd15_txt2img"), "5.steps") == ("5", "steps")


def test_resolve_by_title() -> None:
    graph = bundled("sd15_txt2img")
    assert resolve_parameter(graph, "KSampler.cfg") == ("5", "cfg")
    assert resolve_parameter(graph, "CLIP Text Encode (Negative Prompt).text") == ("3", "text")


def test_resolve_title_ignores_case() -> None:
    assert resolve_parameter(bundled("sd15_txt2img"), "ksampler.seed") == ("5", "seed")


def test_resolve_subgraph_id() -> None:
    graph: Graph = {"58:3": {"class_type": "KSampler", "inputs": {"steps": 4}}}
    assert resolve_parameter(graph, "58:3.steps") == ("58:3", "steps")


def test_resolve_ambiguous_title_lists_ids() -> None:
    graph = bundled("sd15_txt2img")
    graph["2"]["_meta"]["title"] = "Prompt"
    graph["3"]["_meta"]["title"] = "Prompt"
    with pytest.raises(ValueError, match=r"names nodes 2, 3") as caught:
        resolve_parameter(graph, "Prompt.text")
    assert "Use a node id" in str(caught.value)


def test_resolve_unknown_node_lists_nodes() -> None:
    with pytest.raises(ValueError, match=r"no node has the id or title 'Sampler'") as caught:
        resolve_parameter(bundled("sd15_txt2img"), "Sampler.steps")
    assert "5 (KSampler)" in str(caught.value)


def test_resolve_unknown_input_lists_inputs() -> None:
    with pytest.raises(ValueError, match=r"has no input 'step'") as caught:
        resolve_parameter(bundled("sd15_txt2img"), "5.step")
    assert "steps" in str(caught.value)


def test_resolve_linked_input_rejected() -> None:
    with pytest.raises(ValueError, match=r"linked to node 4"):
        resolve_parameter(bundled("sd15_txt2img"), "5.latent_image")


@pytest.mark.parametrize("reference", ["steps", ".steps", "5.", ""])
def test_resolve_malformed_rejected(reference: str) -> None:
    with pytest.raises(ValueError, match=r"expected NODE.INPUT"):
        resolve_parameter(bundled("sd15_txt2img"), reference)


def test_describe_parameter_other_kind(definitions: NodeDefinitions) -> None:
    parameter = describe_parameter(bundled("sd15_lora_txt2img"), "2.strength_model", definitions)
    assert parameter.kind is ParameterKind.OTHER
    assert parameter.value_type == "float"
    assert parameter.value == 1.0


def test_apply_shortcuts(definitions: NodeDefinitions) -> None:
    graph = bundled("sd15_txt2img")
    values = {
        "prompt": "a hare",
        "negative": "fog",
        "steps": "30",
        "cfg": "7.5",
        "size": "768x512",
        "seed": "42",
        "sampler": "euler_ancestral",
        "scheduler": "karras",
        "denoise": "0.5",
        "batch_size": "2",
    }
    result = apply_values(graph, values, definitions)
    assert result["2"]["inputs"]["text"] == "a hare"
    assert result["3"]["inputs"]["text"] == "fog"
    assert result["5"]["inputs"]["steps"] == 30
    assert result["5"]["inputs"]["cfg"] == 7.5
    assert result["4"]["inputs"]["width"] == 768
    assert result["4"]["inputs"]["height"] == 512
    assert result["4"]["inputs"]["batch_size"] == 2
    assert result["5"]["inputs"]["seed"] == 42
    assert result["5"]["inputs"]["sampler_name"] == "euler_ancestral"
    assert result["5"]["inputs"]["scheduler"] == "karras"
    assert result["5"]["inputs"]["denoise"] == 0.5


def test_apply_leaves_graph_unchanged(definitions: NodeDefinitions) -> None:
    graph = bundled("sd15_txt2img")
    apply_values(graph, {"steps": 3, "prompt": "x"}, definitions)
    assert graph == bundled("sd15_txt2img")


def test_apply_by_reference_and_title(definitions: NodeDefinitions) -> None:
    graph = bundled("sd15_lora_txt2img")
    result = apply_values(
        graph,
        {"2.strength_model": "0.6", "Load LoRA.lora_name": "https://x.invalid/l"},
        definitions,
    )
    assert result["2"]["inputs"]["strength_model"] == 0.6
    assert result["2"]["inputs"]["lora_name"] == "https://x.invalid/l"


def test_apply_shortcut_sets_every_match(definitions: NodeDefinitions) -> None:
    graph = bundled("sd15_txt2img")
    graph["8"] = json.loads(json.dumps(graph["5"]))
    result = apply_values(graph, {"steps": 12}, definitions)
    assert result["5"]["inputs"]["steps"] == 12
    assert result["8"]["inputs"]["steps"] == 12


def test_apply_whole_float_string_to_int(definitions: NodeDefinitions) -> None:
    result = apply_values(bundled("sd15_txt2img"), {"steps": "25.0"}, definitions)
    assert result["5"]["inputs"]["steps"] == 25


def test_apply_int_to_float_input(definitions: NodeDefinitions) -> None:
    result = apply_values(bundled("sd15_txt2img"), {"cfg": 8}, definitions)
    assert result["5"]["inputs"]["cfg"] == 8.0
    assert isinstance(result["5"]["inputs"]["cfg"], float)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"steps": "0"}, r"steps \(5\.steps\): 0 is out of range; it must be between 1 and 10000"),
        ({"steps": "many"}, r"'many' is not a whole number"),
        ({"steps": "2.5"}, r"'2.5' is not a whole number"),
        ({"cfg": "nan"}, r"not a finite number"),
        ({"cfg": "101"}, r"between 0 and 100"),
        ({"seed": "-1"}, r"between 0 and 18446744073709551615"),
        ({"sampler": "eulr"}, r"'eulr' is not one of the choices: euler, .*Did you mean euler"),
        ({"size": "768"}, r"not WIDTHxHEIGHT"),
        ({"size": "8x512"}, r"8 is out of range; it must be between 16 and 16384"),
        ({"5.steps": True}, r"True is not a whole number"),
        ({"prompt": ["a"]}, r"is not text"),
        ({"colour": "red"}, r"neither a shortcut nor a NODE.INPUT reference"),
    ],
)
def test_apply_rejects_bad_value(
    values: dict[str, Any], expected: str, definitions: NodeDefinitions
) -> None:
    with pytest.raises(ValueError, match=expected):
        apply_values(bundled("sd15_txt2img"), values, definitions)


def test_apply_missing_kind_rejected(definitions: NodeDefinitions) -> None:
    graph = bundled("sd15_txt2img")
    del graph["3"]
    graph["5"]["inputs"]["negative"] = ["2", 0]
    with pytest.raises(ValueError, match=r"'negative' sets the negative prompt, but the workflow"):
        apply_values(graph, {"negative": "x"}, definitions)


def test_parse_assignment_splits_first_equals() -> None:
    assert parse_assignment("5.steps=30") == ("5.steps", "30")
    assert parse_assignment("prompt=a=b") == ("prompt", "a=b")
    assert parse_assignment("negative=") == ("negative", "")
    assert parse_assignment(" KSampler.cfg = 7") == ("KSampler.cfg", " 7")


@pytest.mark.parametrize("text", ["5.steps", "=30", ""])
def test_parse_assignment_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected NODE.INPUT=VALUE"):
        parse_assignment(text)


def test_prompt_shortcut_sets_both_sides(definitions: NodeDefinitions) -> None:
    result = apply_values(controlnet_graph(), {"prompt": "x", "negative": "y"}, definitions)
    assert result["3"]["inputs"]["text"] == "x"
    assert result["4"]["inputs"]["text"] == "x"
    assert result["2"]["inputs"]["text"] == "y"


def test_text_on_both_sides_is_positive() -> None:
    """InstructPix2Pix with DualCFGGuider feeds the positive text into a negative input."""
    graph: Graph = {
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "make it snow", "clip": ["9", 0]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["9", 0]}},
        "9": {"class_type": "CLIPLoader", "inputs": {"clip_name": "clip.safetensors"}},
        "52": {
            "class_type": "InstructPixToPixConditioning",
            "inputs": {"positive": ["6", 0], "negative": ["7", 0], "pixels": ["13", 0]},
        },
        "53": {
            "class_type": "DualCFGGuider",
            "inputs": {"cond1": ["52", 0], "cond2": ["52", 1], "negative": ["6", 0]},
        },
        "13": {"class_type": "LoadImage", "inputs": {"image": "in.png"}},
    }
    parameters = find_parameters(graph)
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == ["6.text"]
    assert keys_of(parameters, ParameterKind.NEGATIVE_PROMPT) == ["7.text"]


def test_prompt_through_switch_node() -> None:
    graph = controlnet_graph()
    graph["20"] = {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "plain"}}
    graph["21"] = {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "pixel art"}}
    graph["22"] = {"class_type": "PrimitiveBoolean", "inputs": {"value": True}}
    graph["23"] = {
        "class_type": "ComfySwitchNode",
        "inputs": {"switch": ["22", 0], "on_false": ["20", 0], "on_true": ["21", 0]},
    }
    graph["3"]["inputs"]["text"] = ["23", 0]
    parameters = find_parameters(graph)
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == ["4.text", "20.value", "21.value"]


def test_api_node_own_prompt(definitions: NodeDefinitions) -> None:
    graph: Graph = {
        "1": {
            "class_type": "WanTextToVideoApi",
            "inputs": {"prompt": "a fox", "negative_prompt": "blur", "seed": 3},
        }
    }
    parameters = find_parameters(graph, definitions)
    assert keys_of(parameters, ParameterKind.POSITIVE_PROMPT) == ["1.prompt"]
    assert keys_of(parameters, ParameterKind.NEGATIVE_PROMPT) == ["1.negative_prompt"]


def test_numbered_clip_names_are_models() -> None:
    graph: Graph = {
        "1": {
            "class_type": "QuadrupleCLIPLoader",
            "inputs": {f"clip_name{index}": f"https://x.invalid/{index}" for index in range(1, 5)},
        }
    }
    parameters = find_parameters(graph)
    assert len(by_kind(parameters, ParameterKind.MODEL)) == 4


def test_size_through_primitive_nodes() -> None:
    from cmfy_desk.workflows.graph import image_size
    from cmfy_desk.workflows.parameters import ParameterKind, apply_values, find_parameters

    graph = {
        "10": {"class_type": "PrimitiveInt", "inputs": {"value": 1024}},
        "11": {"class_type": "PrimitiveInt", "inputs": {"value": 768}},
        "12": {
            "class_type": "EmptySD3LatentImage",
            "inputs": {"width": ["10", 0], "height": ["11", 0], "batch_size": 1},
        },
        "13": {"class_type": "SaveImage", "inputs": {"images": ["12", 0], "filename_prefix": "x"}},
    }
    kinds = {(p.node_id, p.input_name): p.kind for p in find_parameters(graph)}
    assert kinds[("10", "value")] is ParameterKind.WIDTH
    assert kinds[("11", "value")] is ParameterKind.HEIGHT
    assert image_size(graph).width == 1024
    assert image_size(graph).height == 768
    resized = apply_values(graph, {"size": "640x512"})
    assert resized["10"]["inputs"]["value"] == 640
    assert resized["11"]["inputs"]["value"] == 512
    assert resized["12"]["inputs"]["width"] == ["10", 0]
