"""Entry script of the frozen app: PyInstaller starts here and runs the ``cmfy-desk`` command.

It does what the console script ``cmfy-desk = cmfy_desk.cli:main`` of pyproject.toml does.
First, freeze_support() turns a copy of the program that multiprocessing started as a worker
process (the thumbnail workers) into that worker, before the app's own imports.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from cmfy_desk.cli import main

    raise SystemExit(main())
