"""Write resources/template-models.json: the model downloads ComfyUI's workflow templates list.

The app seeds its model library (one canonical URL per model file) from this list, so an
installed copy needs neither the templates package nor a network connection. Run it after
upgrading the package `comfyui-workflow-templates-json` (MIT licence):

    python packaging/update_template_models.py
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import json
from pathlib import Path

from cmfy_desk.store.model_library import TEMPLATES_PACKAGE, template_models

OUTPUT = Path(__file__).resolve().parent.parent / "resources" / "template-models.json"


def main() -> None:
    package = importlib.import_module(TEMPLATES_PACKAGE)
    folder = importlib.resources.files(package) / "templates"
    models = [
        {"name": model.name, "url": model.url, "folder": model.folder}
        for model in template_models(folder)
    ]
    document = {
        "source": f"{TEMPLATES_PACKAGE} "
        f"{importlib.metadata.version(TEMPLATES_PACKAGE.replace('_', '-'))} (MIT licence)",
        "models": models,
    }
    OUTPUT.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {len(models)} model downloads to {OUTPUT}")


if __name__ == "__main__":
    main()
