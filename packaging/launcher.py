"""Entry script of the frozen app: PyInstaller starts here and runs the ``cmfy-desk`` command.

It does what the console script ``cmfy-desk = cmfy_desk.cli:main`` of pyproject.toml does.
"""

from cmfy_desk.cli import main

raise SystemExit(main())
