"""The language layer of the sandbox: RestrictedPython compilation plus the runtime guards.

This layer makes ordinary solver code work and refuses the obvious escapes with a readable error.
It is not what protects the machine: the process layer (`worker.py`) is. Everything here runs
inside the sandbox process.
"""

from __future__ import annotations

import ast
import builtins
import operator
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from RestrictedPython import compile_restricted_exec
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations

# Modules (and their submodules) that model code may import. Importing is only ever a lookup in
# the modules the worker loaded before it dropped its privileges.
ALLOWED_MODULES: tuple[str, ...] = (
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
    "numpy",
    "sympy",
    "mpmath",
)

# Submodules of allowed packages that are file, code or native-library gadgets.
DENIED_SUBMODULES: tuple[str, ...] = (
    "numpy.ctypeslib",
    "numpy.f2py",
    "numpy.lib.format",
    "numpy.lib.npyio",
    "numpy.testing",
    "numpy.distutils",
    "sympy.external",
    "sympy.utilities.lambdify",
    "sympy.utilities.runtests",
    "sympy.utilities.autowrap",
    "sympy.utilities.codegen",
    "sympy.parsing",
    "sympy.plotting",
    "sympy.interactive",
    "sympy.printing.preview",
    "sympy.testing",
)

# Members that read or write files, build code from strings, or reach native code. The process
# layer and the audit hook stop them too; refusing them here gives the model a clear message.
DENIED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "get_type_hints",  # typing: evaluates annotation strings
        "_eval_type",
        "load",
        "save",
        "savez",
        "savez_compressed",
        "savetxt",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "fromregex",
        "tofile",
        "dump",
        "memmap",
        "DataSource",
        "ctypes",
        "ctypeslib",
        "f2py",
        "lambdify",
        "lambdastr",
        "import_module",
        "parse_expr",
        "identify",
        "preview",
        "init_session",
        "init_printing",
        "system",
        "popen",
        "autowrap",
        "ufuncify",
        "binary_function",
        "codegen",
        "test",
        "doctest",
        "runtests",
        "plot",
        "textplot",
        "Formatter",
        "format_map",
        "mro",
    }
)

# Dunder attributes that ordinary class code needs (`super().__init__(...)`, `self.__dict__` is
# not among them); they are reachable only on sandbox-defined classes and `super` objects.
ALLOWED_DUNDERS: frozenset[str] = frozenset(
    {
        "__init__",
        "__repr__",
        "__str__",
        "__eq__",
        "__ne__",
        "__lt__",
        "__le__",
        "__gt__",
        "__ge__",
        "__hash__",
        "__len__",
        "__iter__",
        "__next__",
        "__contains__",
        "__getitem__",
        "__setitem__",
        "__add__",
        "__sub__",
        "__mul__",
        "__call__",
        "__name__",
    }
)

SANDBOX_MODULE = "__sandbox__"


def _is_private_name(name: str) -> bool:
    """`_x` style names: allowed as attributes of sandbox-defined objects only."""
    return name.startswith("_") and not name.startswith("__") and len(name) > 1


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, widened for solver code and narrowed for imports.

    - `a[i] += v` and `o.x += v` are rewritten into guarded get / in-place op / set;
    - `self._private` and a few dunders (`super().__init__`) compile; the runtime guard decides;
    - every import becomes a call to `_import_` (the allow-list lives there), and
      `from M import *` becomes `_import_star_("M")`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tmp = 0

    def _new_tmp(self) -> str:
        self._tmp += 1
        return f"_aug{self._tmp}_"

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if not (_is_private_name(attr) or attr in ALLOWED_DUNDERS):
            return super().visit_Attribute(node)
        if attr in INSPECT_ATTRIBUTES:  # pragma: no cover - none of them is private-looking
            return super().visit_Attribute(node)
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):
            call = ast.Call(func=ast.Name("_getattr_", ast.Load()), args=[node.value, ast.Constant(attr)], keywords=[])
            copy_locations(call, node)
            return call
        wrapped = ast.Call(func=ast.Name("_write_", ast.Load()), args=[node.value], keywords=[])
        copy_locations(wrapped, node.value)
        node.value = wrapped
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if isinstance(target, ast.Name):
            return super().visit_AugAssign(node)
        # `c[k] op= v` -> t1 = c; t2 = k; _write_(t1)[t2] = _inplacevar_(op, _getitem_(t1, t2), v),
        # evaluating the container and the key once, as Python does.
        if isinstance(target, ast.Attribute) and target.attr.startswith("_") and not (_is_private_name(target.attr)):
            self.error(node, f'"{target.attr}" is an invalid attribute name because it starts with "_".')
            return node
        obj_tmp = self._new_tmp()
        stmts: list[ast.stmt] = [ast.Assign(targets=[ast.Name(obj_tmp, ast.Store())], value=self.visit(target.value))]
        write = ast.Call(func=ast.Name("_write_", ast.Load()), args=[ast.Name(obj_tmp, ast.Load())], keywords=[])
        store: ast.expr
        if isinstance(target, ast.Subscript):
            key_tmp = self._new_tmp()
            stmts.append(ast.Assign(targets=[ast.Name(key_tmp, ast.Store())], value=self.visit(target.slice)))
            current: ast.expr = ast.Call(
                func=ast.Name("_getitem_", ast.Load()),
                args=[ast.Name(obj_tmp, ast.Load()), ast.Name(key_tmp, ast.Load())],
                keywords=[],
            )
            store = ast.Subscript(value=write, slice=ast.Name(key_tmp, ast.Load()), ctx=ast.Store())
        else:
            assert isinstance(target, ast.Attribute)
            current = ast.Call(
                func=ast.Name("_getattr_", ast.Load()),
                args=[ast.Name(obj_tmp, ast.Load()), ast.Constant(target.attr)],
                keywords=[],
            )
            store = ast.Attribute(value=write, attr=target.attr, ctx=ast.Store())
        new_value = ast.Call(
            func=ast.Name("_inplacevar_", ast.Load()),
            args=[ast.Constant(_AUG_OPS[type(node.op)]), current, self.visit(node.value)],
            keywords=[],
        )
        stmts.append(ast.Assign(targets=[store], value=new_value))
        for stmt in stmts:
            copy_locations(stmt, node)
        return stmts

    def visit_Import(self, node: ast.Import) -> Any:
        self.check_import_names(node)
        out = []
        for alias in node.names:
            # `import a.b` binds `a`; `import a.b as c` binds the submodule.
            bound = alias.asname or alias.name.split(".")[0]
            fromlist = _str_tuple(("*",) if alias.asname else ())
            call = ast.Call(
                func=ast.Name("_import_", ast.Load()),
                args=[ast.Constant(alias.name), fromlist],
                keywords=[],
            )
            assign = ast.Assign(targets=[ast.Name(bound, ast.Store())], value=call)
            copy_locations(assign, node)
            out.append(assign)
        return out

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        if node.level:
            self.error(node, "Relative imports are not allowed.")
            return node
        module = node.module or ""
        if len(node.names) == 1 and node.names[0].name == "*":
            call = ast.Call(func=ast.Name("_import_star_", ast.Load()), args=[ast.Constant(module)], keywords=[])
            expr = ast.Expr(value=call)
            copy_locations(expr, node)
            return expr
        self.check_import_names(node)
        names = tuple(alias.name for alias in node.names)
        call = ast.Call(
            func=ast.Name("_import_", ast.Load()), args=[ast.Constant(module), _str_tuple(names)], keywords=[]
        )
        tmp = self._new_tmp()
        out: list[ast.stmt] = [ast.Assign(targets=[ast.Name(tmp, ast.Store())], value=call)]
        for alias in node.names:
            get = ast.Call(
                func=ast.Name("_import_from_", ast.Load()),
                args=[ast.Name(tmp, ast.Load()), ast.Constant(alias.name)],
                keywords=[],
            )
            out.append(ast.Assign(targets=[ast.Name(alias.asname or alias.name, ast.Store())], value=get))
        for stmt in out:
            copy_locations(stmt, node)
        return out


def _str_tuple(items: tuple[str, ...]) -> ast.Tuple:
    return ast.Tuple(elts=[ast.Constant(i) for i in items], ctx=ast.Load())


_AUG_OPS = {
    ast.Add: "+=",
    ast.Sub: "-=",
    ast.Mult: "*=",
    ast.MatMult: "@=",
    ast.Div: "/=",
    ast.Mod: "%=",
    ast.Pow: "**=",
    ast.LShift: "<<=",
    ast.RShift: ">>=",
    ast.BitOr: "|=",
    ast.BitXor: "^=",
    ast.BitAnd: "&=",
    ast.FloorDiv: "//=",
}

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "@=": operator.imatmul,
    "/=": operator.itruediv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "//=": operator.ifloordiv,
}


class CompileError(Exception):
    """The code does not compile under the sandbox policy (syntax error or a refused construct)."""


def compile_code(source: str, filename: str = "<sandbox>") -> types.CodeType:
    result = compile_restricted_exec(source, filename=filename, policy=SandboxPolicy)
    if result.errors or result.code is None:
        raise CompileError("\n".join(result.errors) or "the code did not compile")
    return result.code


def _module_allowed(name: str) -> bool:
    if any(name == d or name.startswith(d + ".") for d in DENIED_SUBMODULES):
        return False
    return any(name == m or name.startswith(m + ".") for m in ALLOWED_MODULES)


class _SandboxMeta(type):
    """Metaclass of every class the sandbox defines, so the guards can tell them apart."""


def _is_sandbox_object(obj: Any) -> bool:
    return isinstance(obj, _SandboxMeta) or isinstance(type(obj), _SandboxMeta)


class OutputBuffer:
    """The one writer behind every `print`, module level and inside functions; size-capped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        room = self.limit - self.size
        if room <= 0:
            self.dropped += len(text)
            return
        if len(text) > room:
            self.dropped += len(text) - room
            text = text[:room]
        self.parts.append(text)
        self.size += len(text)

    def _call_print(
        self, *objects: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
    ) -> None:
        if file is not None:
            raise TypeError("print(file=...) is not available in the sandbox")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        self.write(sep.join(str(o) for o in objects) + end)

    def take(self) -> tuple[str, int]:
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.size, self.dropped = [], 0, 0
        return text, dropped


def guarded_getattr(obj: Any, name: str) -> Any:
    """`_getattr_` and the `getattr` builtin: private names only on sandbox objects, no gadgets."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_"):
        sandboxed = _is_sandbox_object(obj) or isinstance(obj, super)
        allowed = (_is_private_name(name) and _is_sandbox_object(obj)) or (name in ALLOWED_DUNDERS and sandboxed)
        if not allowed:
            raise AttributeError(f'"{name}" is not accessible in the sandbox (names starting with "_")')
    if name in INSPECT_ATTRIBUTES:
        raise AttributeError(f'"{name}" is not accessible in the sandbox')
    if isinstance(obj, types.ModuleType) and not _module_allowed(obj.__name__):
        raise AttributeError(f'module "{obj.__name__}" is not available in the sandbox')
    if name in DENIED_ATTRIBUTES and not _is_sandbox_object(obj):
        raise AttributeError(f'"{name}" is not available in the sandbox (file, code or native access)')
    if name in ("format", "format_map") and isinstance(obj, str):
        raise AttributeError("str.format is not available in the sandbox; use an f-string")
    value = getattr(obj, name)
    if isinstance(value, types.ModuleType) and not _module_allowed(value.__name__):
        raise AttributeError(f'module "{value.__name__}" is not available in the sandbox')
    return value


def _getattr_builtin(obj: Any, name: str, *default: Any) -> Any:
    if default:
        try:
            return guarded_getattr(obj, name)
        except AttributeError:
            return default[0]
    return guarded_getattr(obj, name)


def _hasattr_builtin(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_getitem(obj: Any, key: Any) -> Any:
    if isinstance(obj, types.ModuleType):
        raise TypeError("modules cannot be indexed in the sandbox")
    return obj[key]


def guarded_write(obj: Any) -> Any:
    """`_write_`: items of containers and attributes of sandbox-defined objects may be written."""
    if isinstance(obj, (types.ModuleType, type)) and not _is_sandbox_object(obj):
        raise TypeError(f"{type(obj).__name__} objects cannot be modified in the sandbox")
    if isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.CodeType)):
        raise TypeError("functions cannot be modified in the sandbox")
    if _is_sandbox_object(obj) or isinstance(obj, (dict, list, bytearray, types.SimpleNamespace)):
        return obj
    return _ItemWriter(obj)


class _ItemWriter:
    """Lets `x[i] = v` through for library containers (ndarray, Counter, Matrix) but no attribute writes."""

    __slots__ = ("_obj",)
    _obj: Any

    def __init__(self, obj: Any) -> None:
        object.__setattr__(self, "_obj", obj)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._obj[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._obj[key]

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"attributes of {type(self._obj).__name__} objects cannot be set in the sandbox")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"attributes of {type(self._obj).__name__} objects cannot be deleted in the sandbox")


def _setattr_builtin(obj: Any, name: str, value: Any) -> None:
    if name.startswith("_") and not (_is_private_name(name) and _is_sandbox_object(obj)):
        raise AttributeError(f'"{name}" cannot be set in the sandbox')
    setattr(guarded_write(obj), name, value)


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    return _INPLACE[op](x, y)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _type_builtin(obj: Any) -> type:
    return type(obj)


class Importer:
    """`_import_`, `_import_from_`, `_import_star_` bound to one notebook namespace."""

    def __init__(self, modules: Mapping[str, types.ModuleType], namespace: dict[str, Any]) -> None:
        self.modules = modules
        self.namespace = namespace
        self.shims: dict[str, Any] = {}

    def _lookup(self, name: str) -> types.ModuleType:
        if name in self.shims:
            return self.shims[name]
        if not _module_allowed(name):
            allowed = ", ".join(ALLOWED_MODULES)
            raise ImportError(f"import of '{name}' is not allowed in the sandbox (allowed: {allowed})")
        module = self.modules.get(name)
        if module is None:
            raise ImportError(f"module '{name}' is not available in the sandbox")
        return module

    def import_(self, name: str, fromlist: Iterable[str] = ()) -> types.ModuleType:
        module = self._lookup(name)
        if fromlist:
            return module
        return self._lookup(name.split(".")[0])

    def import_from(self, module: types.ModuleType, name: str) -> Any:
        sub = f"{module.__name__}.{name}"
        if sub in self.modules or (not hasattr(module, name) and _module_allowed(sub)):
            return self._lookup(sub)
        try:
            return guarded_getattr(module, name)
        except AttributeError as exc:
            raise ImportError(f"cannot import name '{name}' from '{module.__name__}': {exc}") from None

    def import_star(self, name: str) -> None:
        module = self._lookup(name)
        public = getattr(module, "__all__", None)
        names = list(public) if public is not None else [n for n in vars(module) if not n.startswith("_")]
        for n in names:
            if n.startswith("_") or n in DENIED_ATTRIBUTES:
                continue
            try:
                self.namespace[n] = guarded_getattr(module, n)
            except AttributeError:
                continue


def _builtins() -> dict[str, Any]:
    b = dict(safe_builtins)
    b.pop("ExceptionGroup", None)
    for name in (
        "sorted",
        "reversed",
        "zip",
        "enumerate",
        "map",
        "filter",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "bytes",
        "iter",
        "next",
        "format",
        "ascii",
        "bin",
        "super",
        "object",
        "property",
        "staticmethod",
        "classmethod",
        "StopIteration",
        "NotImplemented",
        "isinstance",
        "issubclass",
        "Exception",
        "ArithmeticError",
        "RecursionError",
        "bytearray",
    ):
        b[name] = getattr(builtins, name)
    b["getattr"] = _getattr_builtin
    b["hasattr"] = _hasattr_builtin
    b["setattr"] = _setattr_builtin
    b["type"] = _type_builtin
    b["__import__"] = _no_import
    b["__build_class__"] = builtins.__build_class__
    return b


def _no_import(*args: Any, **kwargs: Any) -> Any:
    # Native code inside libraries imports through the current frame's `__import__`: let it find
    # modules that are already loaded (the audit hook refuses loading anything new).
    import sys

    name = args[0] if args else kwargs.get("name", "")
    module = sys.modules.get(name)
    if module is None:
        raise ImportError(f"module '{name}' is not available in the sandbox")
    fromlist = args[3] if len(args) > 3 else kwargs.get("fromlist")
    if fromlist:
        return module
    return sys.modules[name.split(".")[0]]


class StdinReader:
    """What a program reads as standard input: the given text, line by line, and nothing else."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)
        self._at = 0

    def readline(self, size: int = -1) -> str:
        if self._at >= len(self._lines):
            return ""
        self._at += 1
        return self._lines[self._at - 1]

    def read(self, size: int = -1) -> str:
        rest = "".join(self._lines[self._at :])
        self._at = len(self._lines)
        return rest

    def readlines(self) -> list[str]:
        rest = self._lines[self._at :]
        self._at = len(self._lines)
        return rest

    def __iter__(self) -> Any:
        return iter(self.readlines())

    def input(self, prompt: str = "") -> str:
        line = self.readline()
        if not line:
            raise EOFError("EOF when reading a line")
        return line.rstrip("\n")


class StdoutWriter:
    def __init__(self, output: OutputBuffer) -> None:
        self._output = output

    def write(self, text: str) -> int:
        self._output.write(str(text))
        return len(text)

    def flush(self) -> None:
        return None


class SysShim:
    """`import sys` in a program run on standard input: stdin, stdout and harmless knobs only."""

    maxsize = sys.maxsize

    def __init__(self, stdin: StdinReader, output: OutputBuffer) -> None:
        self.stdin = stdin
        self.stdout = StdoutWriter(output)

    def setrecursionlimit(self, limit: int) -> None:
        return None  # the session's own limit stays

    def exit(self, code: Any = 0) -> None:
        raise SystemExit(code)


def attach_stdin(namespace: dict[str, Any], output: OutputBuffer, text: str) -> None:
    """Let the code in `namespace` read `text` as standard input (`input()`, `sys.stdin`) and use `sys.stdout`."""
    reader = StdinReader(text)
    namespace["__builtins__"]["input"] = reader.input
    importer = namespace["_import_"].__self__
    importer.shims["sys"] = SysShim(reader, output)


def new_namespace(modules: Mapping[str, types.ModuleType], output: OutputBuffer) -> dict[str, Any]:
    """A fresh notebook namespace: the guards, the builtins and nothing else."""
    ns: dict[str, Any] = {}
    importer = Importer(modules, ns)
    ns.update(
        {
            "__builtins__": _builtins(),
            "__name__": SANDBOX_MODULE,
            "__metaclass__": _SandboxMeta,
            "_getattr_": guarded_getattr,
            "_getitem_": guarded_getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": guarded_write,
            "_inplacevar_": _inplacevar,
            "_apply_": _apply,
            "_print_": lambda _getattr=None: output,
            "_import_": importer.import_,
            "_import_from_": importer.import_from,
            "_import_star_": importer.import_star,
        }
    )
    return ns


def preload_modules() -> dict[str, types.ModuleType]:
    """Import every allowed module (and what they load lazily) while the files are still readable."""
    import importlib
    import sys

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
        "mpmath",
        "decimal",
    )
    for name in ALLOWED_MODULES + extra:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    # Warm the paths that import lazily on first use, so they do not need the disk later.
    try:
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
        np.linalg.det(np.eye(2))
        np.random.default_rng(0).integers(10)
        np.array([1.5]).tolist()
        repr(np.arange(3))
        str(np.float64(1.5))
        import fractions
        import statistics

        statistics.mean([1, 2])
        fractions.Fraction("1/3")
    except Exception:
        pass
    allowed = {n: m for n, m in sys.modules.items() if m is not None and _module_allowed(n)}
    return allowed


__all__ = [
    "ALLOWED_MODULES",
    "CompileError",
    "OutputBuffer",
    "compile_code",
    "new_namespace",
    "preload_modules",
]
