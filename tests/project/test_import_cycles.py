"""No module under textdesk/ imports a module that imports it back, directly or through
others, function-local imports included (issue 18: "no package imports a module that imports
it back"). Tasks import services, never the reverse: services enqueue by task name.

The graph is read from the source with ``ast`` (every ``import`` and ``from ... import``
anywhere in a module, inside functions too), so a cycle held open by a function-local import
is found like any other. Migrations and the sandboxes (moving to ``standins/``) are left out."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "textdesk"
EXCLUDED = ("textdesk.sandbox", "textdesk.asms_sandbox")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_excluded(name: str) -> bool:
    return ".migrations" in name or any(
        name == prefix or name.startswith(prefix + ".") for prefix in EXCLUDED
    )


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = module_name(path)
        if not is_excluded(name):
            found[name] = path
    return found


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module ``name`` refers to: itself if it is one, else the package holding it."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(filter(None, [*anchor, base]))
            # ``from package import module`` imports the module; ``from module import name``
            # imports the module that defines the name.
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    resolved = {resolve(t, known) for t in targets if t.split(".")[0] == PACKAGE}
    return {t for t in resolved if t and t != name}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each shown as
    one concrete loop through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [loop_through(component, graph) for component in components]


def loop_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    return component


def test_the_graph_sees_function_local_imports(tmp_path):
    known = {"textdesk.a": tmp_path / "a.py", "textdesk.b": tmp_path / "b.py"}
    known["textdesk.a"].write_text("def f():\n    from textdesk import b\n")
    known["textdesk.b"].write_text("from textdesk.a import f\n")
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    assert cycles(graph) == [["textdesk.a", "textdesk.b", "textdesk.a"]]


def test_no_module_imports_a_module_that_imports_it_back():
    graph = import_graph()
    assert len(graph) > 100  # the walk found the product
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(loop) for loop in found)
