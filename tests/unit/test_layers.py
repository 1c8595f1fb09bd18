"""Imports only run downward: a lower layer never imports a higher one.

The layers, lowest first (README "Development" draws the same picture)::

    config, ids, logs, scheduling,     settings, identifiers, logging, OS scheduling,
    fetch_policy, backoff, tasks,      the outbound fetch policy, the one retry formula,
    levels                             the one task keeper, speech levels of audio
    callflow                           the pure call-flow domain (no I/O)
    models, asterisk, security         storage, the local Asterisk harness, credentials
    outbox                             webhook outbox: enqueue apart from delivery
    engine                             asyncio call control over ARI/AMI
    services, simulate                 the one layer both API surfaces call; the call
                                       simulator (config and models only), which the
                                       CLI and the console's "test this rule" both use
    transcription                      the worker process
    api, web                           HTTP surfaces
    runtime                            the composition root
    cli, admin_cli, runtime_cli, demo  command-line entry points

A module may import its own layer and the layers below it. The test walks
every module of the package with :mod:`ast` (function-level and
``TYPE_CHECKING`` imports included: they are dependencies too) and names
each upward edge it finds.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import switchboard

LAYERS: tuple[tuple[str, ...], ...] = (
    ("config", "ids", "logs", "scheduling", "fetch_policy", "backoff", "tasks", "levels", "__init__"),
    ("callflow",),
    ("models", "asterisk", "security"),
    ("outbox",),
    ("engine",),
    ("services", "simulate"),
    ("transcription",),
    ("api", "web"),
    ("runtime",),
    ("cli", "admin_cli", "runtime_cli", "demo"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
PACKAGE = Path(switchboard.__file__).parent


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _area(module: str) -> str:
    """The top-level area of ``switchboard.x.y`` (``x``), ``__init__`` for the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imported(path: Path, module: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``switchboard`` import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "switchboard":  # from switchboard import ids, logs, __version__
                found += [
                    (node.lineno, "switchboard" if a.name.startswith("__") else f"switchboard.{a.name}")
                    for a in node.names
                ]
            else:
                found.append((node.lineno, base))
    return [(line, name) for line, name in found if name.split(".")[0] == "switchboard"]


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """Every import that runs from a lower layer to a higher one, as readable edges."""
    edges = []
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        source = _area(module)
        for line, target in _imported(path, module):
            destination = _area(target)
            if RANK[destination] > RANK[source]:
                where = f"{path.relative_to(package.parent)}:{line}"
                edges.append(f"{where}: {module} ({source}) imports {target} ({destination})")
    return edges


def test_every_area_of_the_package_has_a_layer() -> None:
    areas = {_area(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert areas - set(RANK) == set()


def test_imports_only_run_downward() -> None:
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walker is not blind: planted upward imports are reported with their edges."""
    package = tmp_path / "switchboard"
    (package / "callflow").mkdir(parents=True)
    (package / "callflow" / "__init__.py").write_text("from ..engine import service\n")
    (package / "callflow" / "verbs.py").write_text(
        "import switchboard.models\n"
        "def f() -> None:\n"
        "    from switchboard import api, ids\n"
    )
    assert upward_imports(package) == [
        "switchboard/callflow/__init__.py:1: switchboard.callflow (callflow)"
        " imports switchboard.engine (engine)",
        "switchboard/callflow/verbs.py:1: switchboard.callflow.verbs (callflow)"
        " imports switchboard.models (models)",
        "switchboard/callflow/verbs.py:3: switchboard.callflow.verbs (callflow)"
        " imports switchboard.api (api)",
    ]


def test_enqueueing_a_webhook_loads_no_delivery_code() -> None:
    """The engine's writer and the services enqueue; only the dispatcher's process delivers."""
    code = (
        "import sys, switchboard.outbox, switchboard.engine.calllog\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('switchboard.outbox.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "switchboard.outbox.enqueue"
