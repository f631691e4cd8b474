"""The model library window over a real store: the table, the filter, conflicts, and adding,
editing and removing entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from cmfy_desk.store import Store
from cmfy_desk.store.model_library import SOURCE_TEMPLATES, ModelLibrary
from cmfy_desk.ui.model_library_dialog import (
    CONFLICT_ROLE,
    LibraryFilterModel,
    ModelLibraryDialog,
    ModelLibraryModel,
)
from tests.test_window import click_button

FLUX_URL = "https://huggingface.co/org/flux/resolve/main/flux1-dev.safetensors"
FLUX_MIRROR_URL = "https://huggingface.co/mirror/flux/resolve/main/flux1-dev.safetensors"
VAE_URL = "https://huggingface.co/org/vae/resolve/main/ae.safetensors"


@pytest.fixture
def library(tmp_path: Path) -> Iterator[ModelLibrary]:
    store = Store.open(tmp_path / "cmfy-desk.sqlite3")
    try:
        yield ModelLibrary(store)
    finally:
        store.close()


def open_dialog(qtbot: QtBot, library: ModelLibrary) -> ModelLibraryDialog:
    dialog = ModelLibraryDialog(library)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_library_model_passes_modeltester(library: ModelLibrary, qtmodeltester: Any) -> None:
    library.add("flux1-dev.safetensors", FLUX_URL, "diffusion_models")
    library.add("flux1-dev.safetensors", FLUX_MIRROR_URL, source=SOURCE_TEMPLATES)
    library.add("ae.safetensors", VAE_URL, "vae")
    qtmodeltester.check(ModelLibraryModel(library))


def test_library_model_empty_passes_modeltester(library: ModelLibrary, qtmodeltester: Any) -> None:
    qtmodeltester.check(ModelLibraryModel(library))


def test_table_shows_entries_and_conflicts(qtbot: QtBot, library: ModelLibrary) -> None:
    library.add("flux1-dev.safetensors", FLUX_URL, "diffusion_models")
    library.add("flux1-dev.safetensors", FLUX_MIRROR_URL, source=SOURCE_TEMPLATES)
    library.add("ae.safetensors", VAE_URL, "vae")
    dialog = open_dialog(qtbot, library)
    model = dialog.model
    first = [model.data(model.index(0, column)) for column in range(5)]
    conflicts = [model.data(model.index(row, 0), CONFLICT_ROLE) for row in range(3)]
    background = model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole)
    # User entries come first, so the template's mirror URL is the last row.
    tooltip = model.data(model.index(2, 2), Qt.ItemDataRole.ToolTipRole)
    dialog.conflicts_only.setChecked(True)
    conflict_rows = dialog.proxy.rowCount()

    assert first == [
        "flux1-dev.safetensors",
        "flux1-dev.safetensors",
        FLUX_URL,
        "diffusion_models",
        "yours",
    ]
    assert conflicts == [True, False, True]
    assert background is not None
    assert "listed under 2 URLs" in tooltip
    assert tooltip.endswith(f"Workflows use: {FLUX_URL}")
    assert dialog.conflicts_only.text() == "Only conflicts (1)"
    assert conflict_rows == 2


def test_filter_matches_any_column(qtbot: QtBot, library: ModelLibrary) -> None:
    library.add("flux1-dev.safetensors", FLUX_URL, "diffusion_models")
    library.add("ae.safetensors", VAE_URL, "vae")
    dialog = open_dialog(qtbot, library)
    dialog.filter.setText("VAE")
    by_folder = dialog.proxy.rowCount()
    dialog.filter.setText("org/flux")
    by_url = dialog.proxy.rowCount()
    dialog.filter.setText("")
    everything = dialog.proxy.rowCount()

    assert by_folder == 1
    assert by_url == 1
    assert everything == 2


def test_add_edit_remove_round_trip(qtbot: QtBot, library: ModelLibrary) -> None:
    dialog = open_dialog(qtbot, library)

    dialog.add_button.click()
    editor = dialog.entry_dialog
    assert editor is not None
    editor.name.setText("flux1-dev.safetensors")
    editor.url.setText(FLUX_URL)
    editor.folder.setText("diffusion_models")
    editor.accept()
    added = library.entries()

    dialog.select_entry(added[0].id)
    dialog.edit_button.click()
    editor = dialog.entry_dialog
    assert editor is not None
    editor.url.setText(FLUX_MIRROR_URL)
    editor.folder.setText("unet")
    editor.accept()
    edited = library.get(added[0].id)
    shown_url = dialog.model.data(dialog.model.index(0, 2))

    dialog.select_entry(added[0].id)
    dialog.remove_button.click()
    box = dialog.confirmation
    assert box is not None
    click_button(box, "Remove")
    remaining = library.entries()
    rows = dialog.model.rowCount()

    assert [(entry.file_name, entry.url, entry.folder) for entry in added] == [
        ("flux1-dev.safetensors", FLUX_URL, "diffusion_models")
    ]
    assert (edited.url, edited.folder) == (FLUX_MIRROR_URL, "unet")
    assert shown_url == FLUX_MIRROR_URL
    assert remaining == []
    assert rows == 0


def test_invalid_url_keeps_editor_open(qtbot: QtBot, library: ModelLibrary) -> None:
    dialog = open_dialog(qtbot, library)
    dialog.add_button.click()
    editor = dialog.entry_dialog
    assert editor is not None
    editor.name.setText("model.safetensors")
    editor.url.setText("ftp://example.invalid/model.safetensors")
    editor.accept()
    visible = editor.isVisible()
    error = editor.error.text()
    entries = library.entries()
    editor.reject()

    assert visible
    assert "is not a model download URL" in error
    assert entries == []


def test_remove_cancel_keeps_entry(qtbot: QtBot, library: ModelLibrary) -> None:
    entry = library.add("ae.safetensors", VAE_URL, "vae")
    dialog = open_dialog(qtbot, library)
    dialog.select_entry(entry.id)
    dialog.remove_button.click()
    box = dialog.confirmation
    assert box is not None
    text = box.text()
    click_button(box, "Cancel")

    assert text == "Remove ae.safetensors from the library?"
    assert [kept.id for kept in library.entries()] == [entry.id]


def test_filter_model_passes_modeltester(library: ModelLibrary, qtmodeltester: Any) -> None:
    library.add("flux1-dev.safetensors", FLUX_URL, "diffusion_models")
    library.add("flux1-dev.safetensors", FLUX_MIRROR_URL, source=SOURCE_TEMPLATES)
    library.add("ae.safetensors", VAE_URL, "vae")
    proxy = LibraryFilterModel()
    proxy.setSourceModel(ModelLibraryModel(library))
    proxy.set_conflicts_only(True)
    proxy.setFilterFixedString("mirror")
    qtmodeltester.check(proxy)

    assert proxy.rowCount() == 1
