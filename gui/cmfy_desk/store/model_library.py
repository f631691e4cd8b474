"""The model library: one chosen download URL per model file, kept in the ``model_library`` table.

cmfy.cloud caches models by exact URL, so the library records which spelling of each file's URL
this user's workflows should use. Entries come from the user or from the model lists of
ComfyUI's workflow templates (package ``comfyui-workflow-templates-json``).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.resources
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from cmfy_desk.store.database import Store, StoreError

log = logging.getLogger(__name__)

SOURCE_USER = "user"
SOURCE_TEMPLATES = "templates"
SOURCES = (SOURCE_USER, SOURCE_TEMPLATES)

TEMPLATES_PACKAGE = "comfyui_workflow_templates_json"
# Files in the templates folder that are not workflows.
_NOT_TEMPLATES = frozenset({"index_logo.json", "fuse_options.json"})


@dataclass(frozen=True)
class ModelEntry:
    id: int
    name: str
    file_name: str
    url: str
    folder: str
    source: str


@dataclass(frozen=True)
class TemplateModel:
    """One model download listed by a workflow template."""

    name: str
    url: str
    folder: str


class ModelLibrary:
    """Queries on the ``model_library`` table of ``store``'s database."""

    def __init__(self, store: Store) -> None:
        self._db = store.connection

    def entries(self) -> list[ModelEntry]:
        """Return every entry, user entries first, each group in the order it was added."""
        rows = self._db.execute(
            "SELECT * FROM model_library ORDER BY source != ?, id", (SOURCE_USER,)
        ).fetchall()
        return [_entry_from_row(row) for row in rows]

    def get(self, entry_id: int) -> ModelEntry:
        row = self._db.execute("SELECT * FROM model_library WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise KeyError(f"No model library entry {entry_id}")
        return _entry_from_row(row)

    def add(self, name: str, url: str, folder: str = "", source: str = SOURCE_USER) -> ModelEntry:
        """Add a model by its download URL, stored exactly as given; return the existing entry
        when the URL is already there.

        The file name comes from the URL. A Civitai download URL carries none, so there ``name``
        is the file name when it has a suffix such as ``.safetensors``.
        """
        url = url.strip()
        _check_url(url)
        if source not in SOURCES:
            raise ValueError(f"Unknown model source {source!r}: expected one of {SOURCES}.")
        existing = self._by_url(url)
        if existing is not None:
            return existing
        file_name = _file_name(name, url)
        try:
            cursor = self._db.execute(
                "INSERT INTO model_library (name, file_name, url, folder, source, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name.strip() or file_name, file_name, url, folder.strip(), source, time.time()),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"Adding the model {url} to the library failed: {exc}") from exc
        return self.get(int(cursor.lastrowid or 0))

    def update(
        self,
        entry_id: int,
        *,
        name: str | None = None,
        url: str | None = None,
        folder: str | None = None,
    ) -> ModelEntry:
        """Change an entry's name, URL (and with it the file name) or folder."""
        entry = self.get(entry_id)
        new_url = entry.url if url is None else url.strip()
        if new_url != entry.url:
            _check_url(new_url)
            other = self._by_url(new_url)
            if other is not None:
                raise ValueError(f"The URL {new_url} is already in the library as '{other.name}'.")
        new_name = entry.name if name is None else name.strip() or entry.name
        new_folder = entry.folder if folder is None else folder.strip()
        file_name = entry.file_name if new_url == entry.url else _file_name(new_name, new_url)
        self._db.execute(
            "UPDATE model_library SET name = ?, file_name = ?, url = ?, folder = ? WHERE id = ?",
            (new_name, file_name, new_url, new_folder, entry_id),
        )
        return self.get(entry_id)

    def remove(self, entry_id: int) -> None:
        self._db.execute("DELETE FROM model_library WHERE id = ?", (entry_id,))

    def canonical_urls(self) -> dict[str, str]:
        """Return file name -> the URL to use for it.

        Per file name, a user entry beats a template entry, and among template entries one
        whose URL has no query string (such as ``?download=true``) wins. Then the earliest
        added entry wins.
        """
        chosen: dict[str, str] = {}
        ranked = sorted(
            self.entries(),
            key=lambda entry: (
                entry.source != SOURCE_USER,
                entry.source != SOURCE_USER and "?" in entry.url,
                entry.id,
            ),
        )
        for entry in ranked:
            chosen.setdefault(entry.file_name, entry.url)
        return chosen

    def conflicts(self) -> dict[str, list[str]]:
        """Return the file names listed under more than one URL, with their URLs."""
        urls: dict[str, list[str]] = {}
        for entry in self.entries():
            urls.setdefault(entry.file_name, []).append(entry.url)
        return {name: found for name, found in urls.items() if len(found) > 1}

    def is_seeded(self) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM model_library WHERE source = ? LIMIT 1", (SOURCE_TEMPLATES,)
        ).fetchone()
        return row is not None

    def seed_from_templates(self) -> int:
        """Add the model downloads listed by ComfyUI's workflow templates; return how many
        entries were added.

        A template's ``name`` is the file name its loader nodes use (and the name ComfyUI saves
        the download under), so it becomes the entry's file name even where the URL's last
        segment differs. Of two names listed for one URL, the first is kept.

        Does nothing when template entries exist already, and returns 0 when the package
        ``comfyui-workflow-templates-json`` is not installed.
        """
        if self.is_seeded():
            return 0
        try:
            package = importlib.import_module(TEMPLATES_PACKAGE)
        except ImportError:
            log.info("The package %s is not installed; no template models", TEMPLATES_PACKAGE)
            return 0
        folder = importlib.resources.files(package) / "templates"
        return self.seed(list(template_models(folder)))

    def seed(self, models: list[TemplateModel]) -> int:
        """Add template model downloads not in the library yet; return how many were added."""
        added = 0
        with _transaction(self._db):
            for model in models:
                if self._by_url(model.url) is not None:
                    continue
                self._db.execute(
                    "INSERT INTO model_library (name, file_name, url, folder, source, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        model.name,
                        _base_name(model.name),
                        model.url,
                        model.folder,
                        SOURCE_TEMPLATES,
                        time.time(),
                    ),
                )
                added += 1
        log.info("Added %d template models to the library (%d listed)", added, len(models))
        return added

    def _by_url(self, url: str) -> ModelEntry | None:
        row = self._db.execute("SELECT * FROM model_library WHERE url = ?", (url,)).fetchone()
        return None if row is None else _entry_from_row(row)


def template_models(folder: Traversable) -> Iterator[TemplateModel]:
    """Yield the model downloads of every workflow template in ``folder``, in file order.

    A template lists them in a top-level ``models`` array and in the ``properties.models`` of
    its nodes, including nodes inside subgraph definitions. Unreadable files are logged and
    skipped.
    """
    paths = sorted(
        (path for path in folder.iterdir() if _is_template_file(path.name)),
        key=lambda path: path.name,
    )
    for path in paths:
        try:
            workflow = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("Skipping the template %s: %s", path.name, exc)
            continue
        if isinstance(workflow, dict):
            yield from _models_of_workflow(workflow)


def _is_template_file(name: str) -> bool:
    return name.endswith(".json") and not name.startswith("index") and name not in _NOT_TEMPLATES


def _models_of_workflow(workflow: dict[str, Any]) -> Iterator[TemplateModel]:
    yield from _models_of_list(workflow.get("models"))
    yield from _models_of_nodes(workflow.get("nodes"))
    definitions = workflow.get("definitions")
    if isinstance(definitions, dict):
        subgraphs = definitions.get("subgraphs")
        if isinstance(subgraphs, list):
            for subgraph in subgraphs:
                if isinstance(subgraph, dict):
                    yield from _models_of_nodes(subgraph.get("nodes"))


def _models_of_nodes(nodes: object) -> Iterator[TemplateModel]:
    if not isinstance(nodes, list):
        return
    for node in nodes:
        if isinstance(node, dict) and isinstance(node.get("properties"), dict):
            yield from _models_of_list(node["properties"].get("models"))


def _models_of_list(models: object) -> Iterator[TemplateModel]:
    if not isinstance(models, list):
        return
    for model in models:
        if not isinstance(model, dict):
            continue
        name, url = model.get("name"), model.get("url")
        if isinstance(name, str) and isinstance(url, str) and url.strip():
            folder = model.get("directory")
            yield TemplateModel(name, url.strip(), folder if isinstance(folder, str) else "")


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"'{url}' is not a model download URL: expected http:// or https://.")


def _file_name(name: str, url: str) -> str:
    # The last path segment, as cmfy_desk.workflows.model_urls takes it; the store imports
    # nothing from workflows, so this small rule is repeated here.
    from_url = unquote(urlsplit(url).path).rstrip("/").rsplit("/", 1)[-1]
    if PurePosixPath(from_url).suffix:
        return from_url
    named = _base_name(name)
    return named if PurePosixPath(named).suffix else from_url


def _base_name(name: str) -> str:
    return PurePosixPath(name.strip().replace("\\", "/")).name


def _entry_from_row(row: sqlite3.Row) -> ModelEntry:
    return ModelEntry(
        id=row["id"],
        name=row["name"],
        file_name=row["file_name"],
        url=row["url"],
        folder=row["folder"],
        source=row["source"],
    )


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection, rolled back when the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
