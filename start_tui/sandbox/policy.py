"""The language layer: readable errors for what the sandbox does not offer, and nothing more.

Model code runs as plain Python. This layer changes three things, so that a model reads one clear
line instead of a call the process layer killed or a system error it cannot explain:

- `import os`, `import subprocess`, `import socket` and the other modules in `UNAVAILABLE` (files,
  programs, network, native code) are refused with the reason and what to use instead: at compile
  time when the import always runs (through RestrictedPython's compiler, with the line it is on), at
  run time when it stands under a `try` that catches `ImportError` (so a fallback runs as in Python),
  or when text is imported (`__import__('os')`, `exec("import os")`). Every other module imports as
  in Python; one that is not installed in the sandbox fails as in Python.
- `open()` of a path is refused with the reason; `open(0)` and `open('/dev/stdin')` read the call's
  standard input, as a program for a judge expects.
- nothing else: the builtins are Python's, allowed modules are the real modules, libraries are not
  touched, names starting with `_` and introspection work.

Model code runs as `__main__`, so `if __name__ == "__main__":` runs as in a script.

**This is not a security boundary.** Code can get around it (through `sys.modules`, through an
allowed library's own imports, or by writing the interpreter's memory with numpy), and that is not a
bug. What holds model code is the process layer (`worker.py`, `runner.py`, `confine.py`), which is
built to hold alone and is tested with this layer switched off (`start-tui exec --no-language-layer`).
A way around this layer is not a security issue; a way through the process layer is.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer

# What sessions import before their first call (the worker loads these while the host's files are
# readable); every other module of the standard library imports as in Python, from the read-only root.
PRELOADED_MODULES: tuple[str, ...] = (
    "math",
    "cmath",
    "fractions",
    "decimal",
    "numbers",
    "itertools",
    "functools",
    "operator",
    "collections",
    "statistics",
    "heapq",
    "bisect",
    "random",
    "re",
    "string",
    "copy",
    "datetime",
    "json",
    "typing",
    "time",
    "calendar",
    "enum",
    "dataclasses",
    "textwrap",
    "array",
    "pprint",
    "abc",
    "contextlib",
    "queue",
    "graphlib",
    "unicodedata",
    "hashlib",
    "base64",
    "struct",
    "numpy",
    "sympy",
    "mpmath",
    "scipy",
    "networkx",
)

# Installed packages (not the standard library) that model code may import: the process layer binds
# exactly these (and their native libraries) into the sandbox's root.
ALLOWED_PACKAGES: tuple[str, ...] = (
    "numpy",
    "sympy",
    "mpmath",
    "scipy",
    "networkx",
    # matplotlib (the Agg backend: figures come back as PNGs, see `runner.figures`) and what it imports
    "matplotlib",
    "PIL",
    "kiwisolver",
    "cycler",
    "dateutil",
    "pyparsing",
    "packaging",
    "fontTools",
    "contourpy",
)

# Modules whose purpose is what the sandbox does not offer, and why, in the words the model reads.
_FILES, _PROGRAMS, _NETWORK, _NATIVE = (
    "it has no files",
    "it runs no programs",
    "it has no network",
    "it loads no native code",
)
UNAVAILABLE: dict[str, str] = {
    **dict.fromkeys(("os", "posix", "pathlib", "shutil", "glob", "tempfile", "fileinput", "mmap"), _FILES),
    **dict.fromkeys(("subprocess", "_posixsubprocess", "multiprocessing", "pty"), _PROGRAMS),
    **dict.fromkeys(("socket", "ssl", "urllib", "http", "asyncio", "requests"), _NETWORK),
    **dict.fromkeys(("ctypes", "cffi"), _NATIVE),
}
_SUGGESTED = "math, itertools, fractions, collections, functools, numpy, sympy, scipy, mpmath, networkx"
_TRY_CATCHES = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def module_allowed(name: str) -> bool:
    """Whether model code may import `name` (a module this layer does not name as unavailable)."""
    return name.split(".", 1)[0] not in UNAVAILABLE


def refusal(name: str) -> str:
    """The one line a refused import reads."""
    why = UNAVAILABLE.get(name.split(".", 1)[0], "it is not available")
    return (
        f"import of '{name}' is not available in the sandbox ({why}); compute with {_SUGGESTED} "
        "and the rest of the standard library, and print what you need"
    )


OPEN_REFUSED = (
    "open() is not available in the sandbox (it has no files): keep data in variables and print the "
    "results; open(0) reads standard input"
)


class CompileError(Exception):
    """The code does not compile (`kind` "SyntaxError"), or always imports a module the sandbox does not
    have ("ImportError"); the message says on which line."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors) or "the code did not compile")
        self.kind = "SyntaxError" if not errors or any("SyntaxError" in e for e in errors) else "ImportError"


class ReadablePolicy(RestrictingNodeTransformer):
    """RestrictedPython's compiler with one check: an import that always runs names an available module.

    It keeps none of RestrictedPython's restrictions and changes no node: the tree compiles as Python
    compiles it.
    """

    def __init__(self, errors: list[str], warnings: list[str], used_names: dict[str, bool]) -> None:
        super().__init__(errors, warnings, used_names)
        self.guarded = 0  # depth of `try` blocks that catch ImportError

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Try | ast.TryStar):
            catches = any(h.type is None or _names(h.type) & _TRY_CATCHES for h in node.handlers)
            self.guarded += catches
            for stmt in node.body:
                self.visit(stmt)
            self.guarded -= catches
            for part in (*node.handlers, *node.orelse, *node.finalbody):
                self.visit(part)
            return node
        if isinstance(node, ast.ImportFrom) and node.level:
            self.error(node, "relative imports have no package to import from in the sandbox")
        elif isinstance(node, ast.Import | ast.ImportFrom) and not self.guarded:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name != "__future__" and not module_allowed(name):
                    self.error(node, refusal(name))
        for child in ast.iter_child_nodes(node):
            self.visit(child)
        return node


def _names(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Tuple):
        return set().union(*(_names(e) for e in node.elts))
    if isinstance(node, ast.Attribute):
        return {node.attr}
    return {node.id} if isinstance(node, ast.Name) else set()


def compile_code(source: str | ast.Module, filename: str = "<sandbox>") -> types.CodeType:
    result = compile_restricted_exec(source, filename, policy=ReadablePolicy)
    if result.errors or result.code is None:
        raise CompileError(result.errors)
    return result.code


def compile_expression(source: str, filename: str = "<sandbox>") -> types.CodeType:
    result = compile_restricted_eval(source, filename, policy=ReadablePolicy)
    if result.errors or result.code is None:
        raise CompileError(result.errors)
    return result.code


def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """`__import__` of model code (and of text it runs): the allowed modules, as Python imports them."""
    if level:
        raise ImportError("relative imports have no package to import from in the sandbox")
    if not module_allowed(name):
        raise ModuleNotFoundError(refusal(name), name=name)
    return _PYTHON_IMPORT(name, globals, locals, fromlist, level)


_PYTHON_IMPORT = builtins.__import__


def _open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    if file in (0, "/dev/stdin") and "r" in mode and not set(mode) & set("wax+"):
        stdin = sys.stdin
        return getattr(stdin, "buffer", stdin) if "b" in mode else stdin
    raise PermissionError(OPEN_REFUSED)


def new_builtins() -> dict[str, Any]:
    """Python's builtins, with imports checked against the allow-list and `open` refused."""
    table = dict(vars(builtins))
    table["__import__"] = _import
    table["open"] = _open
    return table


def new_namespace() -> dict[str, Any]:
    """A fresh namespace for code run under this layer, as the `__main__` module's."""
    return {"__builtins__": new_builtins(), "__name__": "__main__"}


def preload_modules() -> tuple[dict[str, types.ModuleType], list[str]]:
    """Import every allowed module (and what they load lazily) while the host's files are readable.

    Sessions fork from the process that ran this, so their first call finds everything in memory.
    Also returns the warm-ups that failed, each with its error: a library version that lacks one of
    their paths still works (the call loads it later), but the failure is reported, not hidden.
    """
    extra = (
        "collections.abc",
        "sympy.abc",
        "sympy.ntheory",
        "sympy.combinatorics",
        "sympy.geometry",
        "sympy.matrices",
        "sympy.polys",
        "sympy.solvers",
        "sympy.solvers.diophantine",
        "sympy.stats",
        "sympy.functions.combinatorial.numbers",
        "sympy.discrete",
        "sympy.series",
        "sympy.integrals",
        "sympy.sets",
        "sympy.logic",
        "sympy.core.numbers",
        "sympy.printing.str",
        "sympy.printing.pretty",
        "numpy.linalg",
        "numpy.random",
        "numpy.fft",
        "numpy.polynomial",
        "scipy.stats",
        "scipy.optimize",
        "scipy.special",
        "mpmath",
        "decimal",
    )
    for name in PRELOADED_MODULES + extra:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    failed = []
    for warm in (_warm, _warm_matplotlib):
        try:
            warm()
        except Exception as exc:
            failed.append(f"{warm.__name__}: {exc!r}")
    return {n: m for n, m in sys.modules.items() if m is not None and module_allowed(n)}, failed


def _warm_matplotlib() -> None:
    """matplotlib on Agg, with only the fonts it ships (the sandbox cannot read the host's), drawn once."""
    os.environ["MPLBACKEND"] = "Agg"
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    import matplotlib.pyplot as plt

    # plt.show() draws nothing on Agg; the figures a call leaves open come back with its result
    warnings.filterwarnings("ignore", message=".*non-interactive, and thus cannot be shown")
    from matplotlib import font_manager

    shipped = os.path.join(matplotlib.get_data_path(), "fonts")
    manager = font_manager.fontManager
    manager.ttflist = [f for f in manager.ttflist if f.fname.startswith(shipped)]
    manager.afmlist = [f for f in manager.afmlist if f.fname.startswith(shipped)]
    font_manager.FontManager._findfont_cached.cache_clear()  # type: ignore[attr-defined]
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="x")
    ax.set_title("warm")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def _warm() -> None:
    """Run the paths that import lazily on first use, so that they need no disk later."""
    import datetime
    import fractions
    import statistics

    import numpy as np
    import sympy

    x = sympy.Symbol("x")
    sympy.solve(x**2 - 5 * x + 6, x)
    sympy.factorint(360)
    sympy.simplify(sympy.sin(x) ** 2 + sympy.cos(x) ** 2)
    sympy.integrate(x**2, (x, 0, 1))
    sympy.Matrix([[1, 2], [3, 4]]).det()
    sympy.isprime(97)
    sympy.nsimplify(0.5)
    str(sympy.Rational(1, 3) + x)
    sympy.pretty(x**2)
    sympy.N(sympy.pi, 20)
    sympy.Poly(x**2 + 1, x).all_roots()
    sympy.binomial(10, 3)
    sympy.summation(x, (x, 1, 10))
    sympy.limit(sympy.sin(x) / x, x, 0)
    sympy.expand((x + 1) ** 3)
    sympy.factor(x**2 - 1)
    sympy.gcd(12, 18)
    sympy.totient(10)
    sympy.divisors(12)
    sympy.Eq(x, 1)
    sympy.linsolve([x - 1], [x])
    sympy.sympify("(x+1)**2")
    sympy.lambdify(x, x**2)(2)
    sympy.nsolve(sympy.cos(x) - x, x, 1)
    np.linalg.det(np.eye(2))
    np.random.default_rng(0).integers(10)
    np.array([1.5]).tolist()
    repr(np.arange(3))
    str(np.float64(1.5))
    statistics.mean([1, 2])
    fractions.Fraction("1/3")
    datetime.datetime.strptime("2024-01-02", "%Y-%m-%d")
    io.TextIOWrapper(io.BytesIO(b"")).read()


__all__ = [
    "ALLOWED_PACKAGES",
    "PRELOADED_MODULES",
    "UNAVAILABLE",
    "CompileError",
    "compile_code",
    "compile_expression",
    "module_allowed",
    "new_builtins",
    "new_namespace",
    "preload_modules",
    "refusal",
]
