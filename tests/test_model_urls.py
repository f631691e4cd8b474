from __future__ import annotations

import pytest

from cmfy_desk.workflows.model_urls import (
    canonical_form,
    is_canonical,
    parse_model_reference,
    same_model,
)

SDXL_MAIN = (
    "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/"
    "sd_xl_base_1.0.safetensors"
)
SDXL_PINNED = (
    "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/"
    "462165984030d82259a11f4367a4eed129e94a7b/sd_xl_base_1.0.safetensors"
)
CLIP_L = "https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors"
CIVITAI = "https://civitai.com/api/download/models/128713"


def test_parse_hugging_face_url() -> None:
    reference = parse_model_reference(SDXL_MAIN)

    assert reference.is_url
    assert reference.host == "huggingface.co"
    assert reference.repo == "stabilityai/stable-diffusion-xl-base-1.0"
    assert reference.revision == "main"
    assert reference.path == "sd_xl_base_1.0.safetensors"
    assert reference.file_name == "sd_xl_base_1.0.safetensors"
    assert reference.url == SDXL_MAIN


def test_parse_hugging_face_main_not_pinned() -> None:
    assert not parse_model_reference(SDXL_MAIN).pinned


def test_parse_hugging_face_commit_pinned() -> None:
    reference = parse_model_reference(SDXL_PINNED)

    assert reference.pinned
    assert reference.revision == "462165984030d82259a11f4367a4eed129e94a7b"


def test_parse_hugging_face_path_in_subfolder() -> None:
    url = (
        "https://huggingface.co/Comfy-Org/HiDream-I1_ComfyUI/resolve/main/split_files/vae/"
        "ae.safetensors?download=true"
    )
    reference = parse_model_reference(url)

    assert reference.repo == "Comfy-Org/HiDream-I1_ComfyUI"
    assert reference.path == "split_files/vae/ae.safetensors"
    assert reference.file_name == "ae.safetensors"


def test_parse_hugging_face_encoded_branch() -> None:
    url = "https://huggingface.co/org/repo/resolve/refs%2Fpr%2F3/model.safetensors"
    reference = parse_model_reference(url)

    assert reference.revision == "refs/pr/3"
    assert reference.path == "model.safetensors"
    assert not reference.pinned


def test_parse_hugging_face_dataset() -> None:
    url = "https://huggingface.co/datasets/org/data/resolve/main/weights/x.safetensors"
    reference = parse_model_reference(url)

    assert reference.repo == "org/data"
    assert reference.path == "weights/x.safetensors"


def test_parse_civitai_version_pinned() -> None:
    reference = parse_model_reference(CIVITAI + "?type=Model&format=SafeTensor")

    assert reference.is_url
    assert reference.pinned
    assert reference.host == "civitai.com"
    assert reference.repo is None
    assert reference.file_name == "128713"


def test_parse_other_host_not_pinned() -> None:
    reference = parse_model_reference("https://example.org/models/x.safetensors")

    assert reference.is_url
    assert not reference.pinned
    assert reference.repo is None
    assert reference.file_name == "x.safetensors"


def test_parse_local_name() -> None:
    reference = parse_model_reference("sd_xl_base_1.0.safetensors")

    assert not reference.is_url
    assert not reference.pinned
    assert reference.file_name == "sd_xl_base_1.0.safetensors"
    assert reference.host == ""


def test_parse_local_name_in_subfolder() -> None:
    reference = parse_model_reference("SDXL/foo.safetensors")

    assert reference.file_name == "foo.safetensors"
    assert reference.path == "SDXL/foo.safetensors"


def test_parse_local_name_with_backslash() -> None:
    reference = parse_model_reference("SDXL\\foo.safetensors")

    assert reference.file_name == "foo.safetensors"
    assert reference.url == "SDXL\\foo.safetensors"


def test_parse_other_scheme_is_not_url() -> None:
    assert not parse_model_reference("file:///models/x.safetensors").is_url


def test_same_model_other_revision() -> None:
    assert same_model(parse_model_reference(SDXL_MAIN), parse_model_reference(SDXL_PINNED))


def test_same_model_extra_query() -> None:
    assert same_model(
        parse_model_reference(CLIP_L), parse_model_reference(CLIP_L + "?download=true")
    )


def test_same_model_local_name_and_url() -> None:
    assert same_model(
        parse_model_reference("SDXL/sd_xl_base_1.0.safetensors"), parse_model_reference(SDXL_MAIN)
    )


def test_same_model_other_file() -> None:
    assert not same_model(parse_model_reference(SDXL_MAIN), parse_model_reference(CLIP_L))


def test_same_model_civitai_versions_differ() -> None:
    assert not same_model(parse_model_reference(CIVITAI), parse_model_reference(CIVITAI[:-1] + "4"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (CLIP_L + "?download=true", CLIP_L),
        (CLIP_L + "?download=true&utm_source=x", CLIP_L),
        (CLIP_L + "/", CLIP_L),
        (CLIP_L + "#section", CLIP_L),
        ("  " + CLIP_L + "  ", CLIP_L),
        (CLIP_L.replace("huggingface.co", "HuggingFace.co"), CLIP_L),
        (CLIP_L.replace("/resolve/", "/blob/"), CLIP_L),
        (CIVITAI + "?type=Model&format=SafeTensor", CIVITAI + "?type=Model&format=SafeTensor"),
        (CIVITAI + "?download=1&type=VAE", CIVITAI + "?type=VAE"),
        (
            "https://example.org/a%20b.safetensors?x=a%20b",
            "https://example.org/a%20b.safetensors?x=a%20b",
        ),
        ("sd_xl_base_1.0.safetensors", "sd_xl_base_1.0.safetensors"),
    ],
)
def test_canonical_form(url: str, expected: str) -> None:
    assert canonical_form(url) == expected


def test_canonical_form_keeps_plain_url() -> None:
    assert is_canonical(SDXL_MAIN)


def test_canonical_form_is_stable() -> None:
    once = canonical_form(CLIP_L + "/?download=true&utm_medium=y")

    assert canonical_form(once) == once
