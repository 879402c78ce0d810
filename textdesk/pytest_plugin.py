"""Loaded by pytest before Django reads its settings (`-p textdesk.pytest_plugin` in
pyproject.toml): the suite runs in development mode, as `make run` does. Settings fail closed
without SECRET_KEY unless DEBUG=1 says this is a developer's machine."""

import os

os.environ.setdefault("DEBUG", "1")
