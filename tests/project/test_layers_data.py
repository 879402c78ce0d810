"""Data follows the layers: no foreign key (nor many-to-many table) points from a package to one
above it, or to a sibling, in the import-linter layers of pyproject.toml. import-linter sees
imports; a key named by string (``"dashboards.Dashboard"``) is invisible to it, so this walks
the models Django knows.

A reference to the user model (``settings.AUTH_USER_MODEL``) is allowed from any layer: a
swappable user is Django's own convention (contrib.admin's LogEntry does the same)."""

import tomllib
from pathlib import Path

from django.apps import apps
from django.conf import settings

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# Known, named, and to be removed (this test fails once it is gone, so the list cannot rot):
# line access is ``accounts.User.dashboards``, a many-to-many from accounts up to dashboards.
KNOWN = {"accounts.User_dashboards.dashboard"}


def _layers() -> dict[str, int]:
    """Each package of the product layers → its rank (0 at the top)."""
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    layers = next(
        c["layers"] for c in contracts if c["type"] == "layers" and "textdesk.urls" in c["layers"]
    )
    return {
        package.strip(): rank for rank, layer in enumerate(layers) for package in layer.split("|")
    }


def _package(model, ranks: dict[str, int]) -> str | None:
    module = model._meta.app_config.name
    return next((p for p in ranks if module == p or module.startswith(f"{p}.")), None)


def keys_up_the_layers() -> set[str]:
    ranks = _layers()
    user = apps.get_model(settings.AUTH_USER_MODEL)
    found = set()
    for model in apps.get_models(include_auto_created=True):
        source = _package(model, ranks)
        if source is None:  # Django's own apps, third parties, the stand-ins (no product)
            continue
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.related_model in (None, user):
                continue
            target = _package(field.related_model, ranks)
            if target is None or target == source:
                continue
            if ranks[target] <= ranks[source]:  # above it, or a sibling in the same layer
                found.add(f"{model._meta.label}.{field.name}")
    return found


def test_the_layers_are_read_from_pyproject():
    ranks = _layers()
    assert ranks["textdesk.urls"] < ranks["textdesk.dashboards"] < ranks["textdesk.outbox"]
    assert ranks["textdesk.webhooks"] == ranks["textdesk.cases"]


def test_no_foreign_key_points_up_the_layers():
    assert keys_up_the_layers() == KNOWN
