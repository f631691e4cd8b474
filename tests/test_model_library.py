from __future__ import annotations

import importlib.resources
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmfy_desk.store.database import Store
from cmfy_desk.store.model_library import ModelLibrary, template_models

SDXL = (
    "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/"
    "sd_xl_base_1.0.safetensors"
)
CLIP_L = "https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors"
CIVITAI = "https://civitai.com/api/download/models/128713"

# Measured in comfyui-workflow-templates-json 0.1.123: 644 workflows, 1,204 model download
# entries, 389 distinct URLs, 23 file names under more than one URL.
TEMPLATE_ENTRIES = 1204
TEMPLATE_URLS = 389
TEMPLATE_CONFLICTS = 23


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "desk.db")
    yield store
    store.close()


@pytest.fixture
def library(store: Store) -> ModelLibrary:
    return ModelLibrary(store)


def test_add_takes_file_name_from_url(library: ModelLibrary) -> None:
    entry = library.add("SDXL base", SDXL, folder="checkpoints")

    assert entry.file_name == "sd_xl_base_1.0.safetensors"
    assert entry.name == "SDXL base"
    assert entry.url == SDXL
    assert entry.folder == "checkpoints"
    assert entry.source == "user"


def test_add_duplicate_url_returns_existing(library: ModelLibrary) -> None:
    first = library.add("SDXL base", SDXL)
    second = library.add("another name", SDXL)

    assert second == first
    assert len(library.entries()) == 1


def test_add_civitai_takes_file_name_from_name(library: ModelLibrary) -> None:
    entry = library.add("dreamshaper_8.safetensors", CIVITAI)

    assert entry.file_name == "dreamshaper_8.safetensors"


def test_add_civitai_without_file_name(library: ModelLibrary) -> None:
    entry = library.add("DreamShaper 8", CIVITAI)

    assert entry.file_name == "128713"


def test_add_rejects_local_name(library: ModelLibrary) -> None:
    with pytest.raises(ValueError, match="not a model download URL"):
        library.add("SDXL", "sd_xl_base_1.0.safetensors")


def test_add_rejects_unknown_source(library: ModelLibrary) -> None:
    with pytest.raises(ValueError, match="Unknown model source"):
        library.add("SDXL", SDXL, source="elsewhere")


def test_add_survives_reopen(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "desk.db")
    ModelLibrary(store).add("SDXL base", SDXL)
    store.close()

    reopened = Store.open(tmp_path / "desk.db")
    try:
        urls = [entry.url for entry in ModelLibrary(reopened).entries()]
    finally:
        reopened.close()

    assert urls == [SDXL]


def test_update_url_changes_file_name(library: ModelLibrary) -> None:
    entry = library.add("model", SDXL)
    updated = library.update(entry.id, url=CLIP_L, folder="text_encoders")

    assert updated.url == CLIP_L
    assert updated.file_name == "clip_l.safetensors"
    assert updated.folder == "text_encoders"
    assert updated.name == "model"


def test_update_name_only(library: ModelLibrary) -> None:
    entry = library.add("model", SDXL)
    updated = library.update(entry.id, name="SDXL 1.0")

    assert updated.name == "SDXL 1.0"
    assert updated.url == SDXL


def test_update_to_existing_url_rejected(library: ModelLibrary) -> None:
    library.add("clip", CLIP_L)
    entry = library.add("sdxl", SDXL)

    with pytest.raises(ValueError, match="already in the library"):
        library.update(entry.id, url=CLIP_L)


def test_update_unknown_entry(library: ModelLibrary) -> None:
    with pytest.raises(KeyError):
        library.update(999, name="x")


def test_remove(library: ModelLibrary) -> None:
    entry = library.add("SDXL base", SDXL)
    library.remove(entry.id)

    assert library.entries() == []


def test_canonical_urls_user_beats_templates(library: ModelLibrary) -> None:
    library.add("clip", CLIP_L + "?download=true", source="templates")
    library.add("clip mine", CLIP_L.replace("/main/", "/abc/"), source="user")

    assert library.canonical_urls() == {"clip_l.safetensors": CLIP_L.replace("/main/", "/abc/")}


def test_canonical_urls_plain_template_url_wins(library: ModelLibrary) -> None:
    library.add("clip", CLIP_L + "?download=true", source="templates")
    library.add("clip", CLIP_L, source="templates")

    assert library.canonical_urls() == {"clip_l.safetensors": CLIP_L}


def test_canonical_urls_first_user_entry_wins(library: ModelLibrary) -> None:
    library.add("clip", CLIP_L)
    library.add("clip again", CLIP_L + "?download=true")

    assert library.canonical_urls() == {"clip_l.safetensors": CLIP_L}


def test_conflicts(library: ModelLibrary) -> None:
    library.add("clip", CLIP_L)
    library.add("clip again", CLIP_L + "?download=true")
    library.add("sdxl", SDXL)

    assert library.conflicts() == {"clip_l.safetensors": [CLIP_L, CLIP_L + "?download=true"]}


def test_template_models_counts() -> None:
    import comfyui_workflow_templates_json

    folder = importlib.resources.files(comfyui_workflow_templates_json) / "templates"
    models = list(template_models(folder))
    urls_by_name: dict[str, set[str]] = {}
    for model in models:
        urls_by_name.setdefault(model.name, set()).add(model.url)

    assert len(models) == TEMPLATE_ENTRIES
    assert len({model.url for model in models}) == TEMPLATE_URLS
    assert sum(1 for urls in urls_by_name.values() if len(urls) > 1) == TEMPLATE_CONFLICTS


def test_seed_from_templates(library: ModelLibrary) -> None:
    added = library.seed_from_templates()
    entries = library.entries()

    assert added == TEMPLATE_URLS
    assert len(entries) == TEMPLATE_URLS
    assert {entry.source for entry in entries} == {"templates"}
    assert all(entry.folder for entry in entries)


def test_seed_twice_adds_nothing(library: ModelLibrary) -> None:
    library.seed_from_templates()

    assert library.seed_from_templates() == 0
    assert len(library.entries()) == TEMPLATE_URLS


def test_seed_keeps_user_entry(library: ModelLibrary) -> None:
    user = library.add("clip", CLIP_L)
    added = library.seed_from_templates()

    assert added == TEMPLATE_URLS - 1
    assert library.get(user.id).source == "user"


def test_seed_conflicts(library: ModelLibrary) -> None:
    library.seed_from_templates()
    conflicts = library.conflicts()

    # One of the 23 template conflicts cannot be stored: a template lists
    # moss_image_sft_int8_convrot.safetensors under the URL of the base model, and a URL is
    # stored once (under its first name), so the library contains 22.
    assert len(conflicts) == TEMPLATE_CONFLICTS - 1
    assert "moss_image_sft_int8_convrot.safetensors" not in conflicts
    assert len(conflicts["clip_l.safetensors"]) == 2


def test_seed_file_name_from_template_name(library: ModelLibrary) -> None:
    library.seed_from_templates()
    by_url = {entry.url: entry for entry in library.entries()}
    url = (
        "https://huggingface.co/systms/SYSTMS-INFL8-LoRA-Qwen-Image-Edit-2511/resolve/main/"
        "SYSTMS_INFL8_LoRA_Qwen_Image_Edit_2511.safetensors"
    )

    assert by_url[url].file_name == "Qwen_Image_Edit_2511-SYSTMS_INFL8.safetensors"


def test_seed_canonical_urls_prefer_plain(library: ModelLibrary) -> None:
    library.seed_from_templates()
    chosen = library.canonical_urls()

    assert chosen["clip_l.safetensors"] == CLIP_L
    assert len(chosen) == TEMPLATE_URLS - sum(
        len(urls) - 1 for urls in library.conflicts().values()
    )


def test_seed_without_package(library: ModelLibrary, monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "comfyui_workflow_templates_json", None)

    assert library.seed_from_templates() == 0
    assert library.entries() == []


def test_template_models_all_places(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    workflow = {
        "models": [{"name": "a.safetensors", "url": "https://example.org/a.safetensors"}],
        "nodes": [
            {"properties": {"models": [{"name": "b.safetensors", "url": " https://x/b "}]}},
            {"properties": {"models": "not a list"}},
            "not a node",
        ],
        "definitions": {
            "subgraphs": [
                {
                    "nodes": [
                        {
                            "properties": {
                                "models": [
                                    {
                                        "name": "c.safetensors",
                                        "url": "https://x/c",
                                        "directory": "loras",
                                    },
                                    {"name": "no url"},
                                ]
                            }
                        }
                    ]
                }
            ]
        },
    }
    (folder / "one.json").write_text(json.dumps(workflow))
    (folder / "index.json").write_text(json.dumps(workflow))
    (folder / "index_logo.json").write_text(json.dumps(workflow))
    (folder / "fuse_options.json").write_text(json.dumps(workflow))
    (folder / "broken.json").write_text("{not json")
    (folder / "list.json").write_text("[]")

    models = list(template_models(folder))

    assert [model.name for model in models] == ["a.safetensors", "b.safetensors", "c.safetensors"]
    assert models[1].url == "https://x/b"
    assert models[2].folder == "loras"
    assert models[0].folder == ""


def test_table_rejects_duplicate_url(store: Store) -> None:
    ModelLibrary(store).add("SDXL", SDXL)

    with pytest.raises(sqlite3.IntegrityError):
        store.connection.execute(
            "INSERT INTO model_library (name, file_name, url, created_at) VALUES (?, ?, ?, 0)",
            ("x", "x", SDXL),
        )
