"""The packages' import graph: no circles between modules, and only the allowed directions.

The graph is read from the source with `ast`, so it holds every `import` statement wherever it
is: at module level, inside a function (runs when the function is first called) and under
`if TYPE_CHECKING:` (never runs). Relative imports are resolved. `from a import b` is an edge
to the module `a.b` when there is one, else to `a` itself; `import a.b` is an edge to `a.b`.
Importing `a.b` also runs `a`'s `__init__` first, but that implied edge is left out of the
circle check (it counts for what a module loads, below): a package whose `__init__` imports one
of its own modules would otherwise always be in a circle with it.

Rules:
- No circle between modules, counting every kind of import. A circle that closes only through
  an import inside a function still couples the two modules both ways, and only works because
  of when the function happens to be called.
- `sandbox/` imports nothing from `worldmodel` or `workers`, not even inside a function.
- `worldmodel/` outside `worldmodel/cli/` (the core) imports nothing from `workers`, not even
  inside a function. `worldmodel/__main__.py` is `python -m worldmodel`, the CLI, so it counts
  as CLI.
- Importing a core module loads none of celery, kombu, redis or paramiko: no chain of
  module-level imports (including the packages' `__init__`s that run on the way) from a core
  module reaches a module-level import of one of them.

Imports made from strings (`importlib.import_module`, Celery's `include`) are not seen.
"""

from __future__ import annotations

import ast
import itertools
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("worldmodel", "workers", "sandbox")
HEAVY = ("celery", "kombu", "redis", "paramiko")


@dataclass(frozen=True)
class Edge:
    """One import statement's edge from the module `source` to `target`."""

    source: str
    target: str
    path: Path
    line: int
    kind: str  # "module" (runs at import), "function" (when called), "typing" (never), "package"

    def where(self, root: Path) -> str:
        if self.kind == "package":  # not a statement: the package's __init__ runs first
            return f"the package of {self.path.relative_to(root)}"
        where = {"module": "", "function": ", inside a function", "typing": ", TYPE_CHECKING"}
        return f"{self.path.relative_to(root)}:{self.line}{where[self.kind]}"


def find_modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of `packages` under `root`, by dotted name (a package by its own name)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "__pycache__" in parts or not (path.parent / "__init__.py").is_file():
                continue  # a data file such as sandbox/image/guestd.py, not a module
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The longest known module `name` lies in, or its top-level name if it is not ours."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return parts[0]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Edge]:
    """Every import in one file, as edges to modules (ours resolved, others by top-level name)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    edges: list[Edge] = []

    def add(target: str, node: ast.AST, kind: str) -> None:
        edges.append(Edge(module, target, path, node.lineno, kind))  # type: ignore[attr-defined]

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(_resolve(alias.name, modules), node, kind)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                add(submodule if submodule in modules else _resolve(origin, modules), node, kind)
        inner = kind
        if kind == "module" and isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
        ):
            inner = "function"
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, "typing")
            for child in node.orelse:
                visit(child, inner)
            return
        for inside in ast.iter_child_nodes(node):
            visit(inside, inner)

    visit(ast.parse(path.read_text(), filename=str(path)), "module")
    return edges


def import_graph(root: Path, packages: tuple[str, ...]) -> tuple[dict[str, Path], list[Edge]]:
    modules = find_modules(root, packages)
    edges = [edge for name, path in modules.items() for edge in imports_of(name, path, modules)]
    return modules, edges


def _strongly_connected(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(succ.get(start, [])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def find_cycles(modules: dict[str, Path], edges: list[Edge]) -> list[list[Edge]]:
    """One shortest circle of imports for every group of modules that import each other."""
    first: dict[tuple[str, str], Edge] = {}
    for edge in sorted(edges, key=lambda e: (e.kind != "module", e.line)):
        if edge.target in modules:
            first.setdefault((edge.source, edge.target), edge)
    succ: dict[str, list[str]] = {}
    for source, target in first:
        succ.setdefault(source, []).append(target)
    cycles = []
    for component in _strongly_connected(sorted(modules), succ):
        members = set(component)
        start = component[0]
        if len(component) == 1 and (start, start) not in first:
            continue
        # Breadth-first from `start` back to itself, inside the component.
        came_from: dict[str, str] = {}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if (node, start) in first:
                break
            for child in succ.get(node, []):
                if child in members and child not in came_from and child != start:
                    came_from[child] = node
                    queue.append(child)
        path = [node, start]
        while path[0] != start:
            path.insert(0, came_from[path[0]])
        cycles.append([first[pair] for pair in itertools.pairwise(path)])
    return cycles


def _is_cli(module: str) -> bool:
    return module in ("worldmodel.cli", "worldmodel.__main__") or module.startswith(
        "worldmodel.cli."
    )


def _is_core(module: str) -> bool:
    return (module == "worldmodel" or module.startswith("worldmodel.")) and not _is_cli(module)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def forbidden_edges(edges: list[Edge]) -> list[tuple[Edge, str]]:
    """Imports in a direction the layering forbids, each with the rule it breaks."""
    found = []
    for edge in edges:
        if _in(edge.source, "sandbox") and (
            _in(edge.target, "worldmodel") or _in(edge.target, "workers")
        ):
            found.append((edge, "sandbox/ never imports worldmodel or workers"))
        elif _is_core(edge.source) and _in(edge.target, "workers"):
            found.append((edge, "worldmodel/ outside cli/ never imports workers"))
    return found


def heavy_chains(modules: dict[str, Path], edges: list[Edge]) -> list[list[Edge]]:
    """For each core module that loads celery, kombu, redis or paramiko at import, the chain."""
    loads: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.kind == "module":
            loads.setdefault(edge.source, []).append(edge)
    for name, path in modules.items():
        # Importing `a.b` runs `a/__init__.py` first.
        parent = name.rpartition(".")[0]
        if parent:
            loads.setdefault(name, []).append(Edge(name, parent, path, 0, "package"))
    chains = []
    for start in sorted(m for m in modules if _is_core(m)):
        came_from: dict[str, Edge] = {}
        queue = deque([start])
        seen = {start}
        hit: Edge | None = None
        while queue and hit is None:
            for edge in loads.get(queue.popleft(), []):
                if edge.target in HEAVY:
                    hit = edge
                    break
                if edge.target in modules and edge.target not in seen:
                    seen.add(edge.target)
                    came_from[edge.target] = edge
                    queue.append(edge.target)
        if hit is not None:
            chain = [hit]
            while chain[0].source != start:
                chain.insert(0, came_from[chain[0].source])
            chains.append(chain)
    return chains


def describe_cycle(cycle: list[Edge], root: Path) -> str:
    hops = " -> ".join(f"{edge.target} ({edge.where(root)})" for edge in cycle)
    return f"circle: {cycle[0].source} -> {hops}"


def describe_chain(chain: list[Edge], root: Path) -> str:
    hops = " -> ".join(f"{edge.target} ({edge.where(root)})" for edge in chain)
    return f"{chain[0].source} loads {chain[-1].target} at import: {chain[0].source} -> {hops}"


def problems(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Every circle and forbidden import under `root`, one line each naming file:line."""
    modules, edges = import_graph(root, packages)
    found = [describe_cycle(cycle, root) for cycle in find_cycles(modules, edges)]
    found += [
        f"forbidden: {edge.source} imports {edge.target} ({edge.where(root)}): {rule}"
        for edge, rule in forbidden_edges(edges)
    ]
    found += [describe_chain(chain, root) for chain in heavy_chains(modules, edges)]
    return found


def test_the_packages_have_no_import_circles_or_forbidden_imports() -> None:
    found = problems(ROOT)
    assert not found, "import problems:\n" + "\n".join(found)


def test_the_graph_is_read_from_every_package() -> None:
    # Guards the test above against passing because it read nothing.
    modules, edges = import_graph(ROOT, PACKAGES)
    assert {"worldmodel.pipeline", "workers.jobs", "sandbox.vm.backend"} <= set(modules)
    assert "sandbox.image.guestd" not in modules
    pairs = {(edge.source, edge.target, edge.kind) for edge in edges}
    assert ("sandbox.vm.backend", "sandbox.executor", "module") in pairs
    assert ("workers.chain", "celery", "function") in pairs
    assert ("worldmodel.cli.evaluate", "worldmodel.evaluate", "typing") in pairs


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_circle_through_a_function_import_is_found_with_its_lines(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "sandbox/__init__.py": "",
            "sandbox/vm/__init__.py": "",
            "sandbox/vm/a.py": '"""A."""\n\nfrom sandbox.vm.b import thing\n',
            "sandbox/vm/b.py": "import os\n\n\ndef thing():\n    from . import a\n",
            "sandbox/vm/c.py": "from .a import x\n",  # reaches the circle, is not in it
        },
    )
    found = problems(tmp_path, ("sandbox",))
    assert found == [
        "circle: sandbox.vm.a -> sandbox.vm.b (sandbox/vm/a.py:3) -> sandbox.vm.a "
        "(sandbox/vm/b.py:5, inside a function)"
    ]


def test_a_module_level_circle_of_three_is_found(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "workers/__init__.py": "",
            "workers/one.py": "from workers import two\n",
            "workers/two.py": "import workers.three\n",
            "workers/three.py": "from workers.one import f\n",
        },
    )
    [found] = problems(tmp_path, ("workers",))
    assert found == (
        "circle: workers.one -> workers.two (workers/one.py:1) -> workers.three "
        "(workers/two.py:1) -> workers.one (workers/three.py:1)"
    )


def test_forbidden_directions_are_named(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "sandbox/__init__.py": "",
            "sandbox/vm.py": "def f():\n    from worldmodel.home import home_path\n",
            "worldmodel/__init__.py": "",
            "worldmodel/home.py": "",
            "worldmodel/jobs.py": "def f():\n    import workers.jobs\n",
            "worldmodel/cli/__init__.py": "import workers.jobs\nimport celery\n",  # the CLI may
            "workers/__init__.py": "",
            "workers/jobs.py": "import redis\n",
        },
    )
    assert problems(tmp_path) == [
        "forbidden: worldmodel.jobs imports workers.jobs (worldmodel/jobs.py:2, inside a "
        "function): worldmodel/ outside cli/ never imports workers",
        "forbidden: sandbox.vm imports worldmodel.home (sandbox/vm.py:2, inside a function): "
        "sandbox/ never imports worldmodel or workers",
    ]


def test_a_heavy_import_reached_through_another_package_is_named(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "worldmodel/__init__.py": "",
            "worldmodel/direct.py": "import json\nimport kombu.utils\n",
            "worldmodel/fine.py": "def f():\n    import paramiko\n",  # only when called
            "worldmodel/typed.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import celery\n",  # never runs
            "worldmodel/pipeline.py": '"""P."""\nfrom sandbox.vm.ssh import connect\n',
            "sandbox/__init__.py": "",
            "sandbox/vm/__init__.py": "from .ssh import connect\n",
            "sandbox/vm/ssh.py": "import os\nimport paramiko\n",
        },
    )
    assert problems(tmp_path) == [
        "worldmodel.direct loads kombu at import: worldmodel.direct -> kombu "
        "(worldmodel/direct.py:2)",
        "worldmodel.pipeline loads paramiko at import: worldmodel.pipeline -> sandbox.vm.ssh "
        "(worldmodel/pipeline.py:2) -> paramiko (sandbox/vm/ssh.py:2)",
    ]


@pytest.mark.parametrize("heavy", HEAVY)
def test_a_heavy_import_through_a_package_init_is_named(tmp_path: Path, heavy: str) -> None:
    _write(
        tmp_path,
        {
            "worldmodel/__init__.py": "",
            "worldmodel/pipeline.py": "from sandbox.executor import run\n",
            "sandbox/__init__.py": f"from {heavy}.client import Client\n",
            "sandbox/executor.py": "",
        },
    )
    [found] = problems(tmp_path)
    assert found == (
        f"worldmodel.pipeline loads {heavy} at import: worldmodel.pipeline -> sandbox.executor "
        f"(worldmodel/pipeline.py:1) -> sandbox (the package of sandbox/executor.py) -> {heavy} "
        "(sandbox/__init__.py:1)"
    )
