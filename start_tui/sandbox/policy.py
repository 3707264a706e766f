"""The language layer of the sandbox: RestrictedPython compilation plus the runtime guards.

This layer makes ordinary solver code work and refuses the obvious (`import os`, `open`, names
starting with `_`) with a readable error. It is not what protects the machine: the process layer
(`worker.py`, `runner.py`, `confine.py`) is, and it holds with this layer switched off
(`start-tui exec --no-language-layer`). Everything here runs inside the runner process.
"""

from __future__ import annotations

import _string
import ast
import builtins
import functools
import importlib
import inspect
import io
import operator
import string
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
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
    "sys",
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

# Allowed modules that are installed packages rather than the standard library: the process layer
# binds exactly these (and their native libraries) into the sandbox's root.
ALLOWED_PACKAGES: tuple[str, ...] = ("numpy", "sympy", "mpmath", "scipy", "networkx")

# Submodules of allowed packages that are file, code or native-library gadgets.
DENIED_SUBMODULES: tuple[str, ...] = (
    "numpy.ctypeslib",
    "numpy.f2py",
    "numpy.testing",
    "numpy.distutils",
    "sympy.utilities.runtests",
    "sympy.utilities.autowrap",
    "sympy.plotting",
    "sympy.interactive",
    "sympy.printing.preview",
    "sympy.testing",
    "scipy._lib._testutils",
    "sympy.utilities.source",
)

# Members that reach native code, run programs or run test suites: refused with a clear message
# (the process layer stops what they would do anyway).
DENIED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "ctypes",
        "ctypeslib",
        "f2py",
        "memmap",
        "DataSource",
        "system",
        "popen",
        "autowrap",
        "ufuncify",
        "binary_function",
        "test",
        "doctest",
        "runtests",
        "preview",
        "init_session",
        "mro",
        "get_class",
        "get_mod_func",
        "import_module",
        "pollute",
    }
)

# Special methods a sandbox-defined class may define, and read on its own instances and through
# `super()` (`super().__init__(...)`, `other.__add__`). `__class__`, `__dict__`, `__globals__`,
# `__subclasses__` and their kind are not among them.
_SPECIAL_METHOD_NAMES = (
    "init new del repr str bytes format hash bool len length_hint iter next reversed contains "
    "getitem setitem delitem missing call enter exit lt le eq ne gt ge "
    "add sub mul matmul truediv floordiv mod divmod pow lshift rshift and xor or "
    "radd rsub rmul rmatmul rtruediv rfloordiv rmod rdivmod rpow rlshift rrshift rand rxor ror "
    "iadd isub imul imatmul itruediv ifloordiv imod ipow ilshift irshift iand ixor ior "
    "neg pos abs invert complex int float index round trunc floor ceil "
    "post_init slots match_args members getattr setattr delattr"
)
DUNDER_METHODS: frozenset[str] = frozenset(f"__{name}__" for name in _SPECIAL_METHOD_NAMES.split())
# Read on any object: names and documentation, nothing that leads to code or frames.
READABLE_DUNDERS: frozenset[str] = frozenset(
    {"__name__", "__qualname__", "__doc__", "__module__", "__cause__", "__context__", "__suppress_context__"}
)
# `x.__class__` compiles too: the guard reads it as `type(x)`, which hands out no metaclass.
ALLOWED_DUNDERS: frozenset[str] = DUNDER_METHODS | READABLE_DUNDERS | {"__class__"}
# The public API of namedtuples, which happens to start with an underscore.
NAMEDTUPLE_API: frozenset[str] = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})

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
        self._classes: list[str] = []  # the class bodies being visited, innermost last

    def _mangle(self, name: str) -> str:
        """CPython's private-name mangling (`self.__x` in class `C` is `self._C__x`), done here so the
        guards see the name the attribute really has: a private name of a sandbox object."""
        if not self._classes or not name.startswith("__") or name.endswith("__"):
            return name
        owner = self._classes[-1].lstrip("_")
        return f"_{owner}{name}" if owner else name

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        node.name = self._mangle(node.name)
        self._classes.append(node.name)
        try:
            return super().visit_ClassDef(node)
        finally:
            self._classes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node.name = self._mangle(node.name)
        return super().visit_FunctionDef(node)

    def visit_Name(self, node: ast.Name) -> Any:
        node.id = self._mangle(node.id)
        if node.id == "__name__" and isinstance(node.ctx, ast.Load):
            # a script's name: `if __name__ == "__main__": main()` runs its main as python does
            main = ast.Constant("__main__")
            copy_locations(main, node)
            return main
        if node.id == "printed":
            # RestrictedPython reserves `printed` for its print collector; here it is a variable
            node.id = "_printed_"
            return node
        return super().visit_Name(node)

    def visit_Call(self, node: ast.Call) -> Any:
        # RestrictedPython's own, less its refusal of `eval(...)` and `exec(...)`: here they are
        # builtins that compile their text under this same policy (`_TextCode`).
        needs_wrap = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
        node = self.node_contents_visit(node)
        if not needs_wrap:
            return node
        node.args.insert(0, node.func)
        node.func = ast.Name("_apply_", ast.Load())
        copy_locations(node.func, node.args[0])
        return node

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        # `_helper` and the special methods of a class are ordinary code; names ending in "_" stay
        # reserved for the guards (`_getattr_`, `_write_`...), and other dunders stay refused.
        if name is not None and name.startswith("_") and name != "_":
            if _is_private_name(name) and not name.endswith("_"):
                return
            if name in DUNDER_METHODS and getattr(node, "col_offset", 0) != 0:
                return
        super().check_name(node, name, allow_magic_methods)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        return self.node_contents_visit(node)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Any:
        for name in node.names:
            self.check_name(node, name)
        return node

    def visit_Match(self, node: ast.Match) -> Any:
        return self.node_contents_visit(node)

    def visit_match_case(self, node: ast.match_case) -> Any:
        return self.node_contents_visit(node)

    def visit_MatchValue(self, node: ast.MatchValue) -> Any:
        # a dotted name (`case Color.RED`) must stay an attribute chain: check its names only
        for sub in ast.walk(node.value):
            if isinstance(sub, ast.Attribute) and sub.attr.startswith("_"):
                self.error(node, f'"{sub.attr}" is an invalid attribute name because it starts with "_".')
            elif isinstance(sub, ast.Name):
                self.check_name(node, sub.id)
        return node

    def visit_MatchSingleton(self, node: ast.MatchSingleton) -> Any:
        return node

    def visit_MatchSequence(self, node: ast.MatchSequence) -> Any:
        return self.node_contents_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> Any:
        self.check_name(node, node.name)
        return node

    def visit_MatchAs(self, node: ast.MatchAs) -> Any:
        self.check_name(node, node.name)
        return self.node_contents_visit(node)

    def visit_MatchOr(self, node: ast.MatchOr) -> Any:
        return self.node_contents_visit(node)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> Any:
        self.check_name(node, node.rest)
        for key in node.keys:
            self.visit_MatchValue(ast.MatchValue(value=key))
        node.patterns = [self.visit(p) for p in node.patterns]
        return node

    def visit_MatchClass(self, node: ast.MatchClass) -> Any:
        # keyword patterns read attributes of the subject without the guard: no underscore names
        for attr in node.kwd_attrs:
            if attr.startswith("_"):
                self.error(node, f'"{attr}" is an invalid attribute name because it starts with "_".')
        self.visit_MatchValue(ast.MatchValue(value=node.cls))
        node.patterns = [self.visit(p) for p in node.patterns]
        node.kwd_patterns = [self.visit(p) for p in node.kwd_patterns]
        return node

    def _new_tmp(self) -> str:
        self._tmp += 1
        return f"_aug{self._tmp}_"

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr = self._mangle(node.attr)
        if not (_is_private_name(attr) or attr in ALLOWED_DUNDERS):
            return super().visit_Attribute(node)
        if attr in INSPECT_ATTRIBUTES:  # pragma: no cover - none of them is private-looking
            return super().visit_Attribute(node)
        if attr == "__class__" and not isinstance(node.ctx, ast.Load):
            # an object of yours turned into a library class's, its attributes planted
            self.error(node, '"__class__" cannot be assigned in the sandbox.')
            return node
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
        if module == "__future__":
            return node  # a directive to the compiler (`annotations`); it imports nothing of note
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


def compile_code(source: str | ast.Module, filename: str = "<sandbox>") -> types.CodeType:
    result = compile_restricted_exec(source, filename=filename, policy=SandboxPolicy)
    if result.errors or result.code is None:
        raise CompileError("\n".join(result.errors) or "the code did not compile")
    return result.code


def compile_expression(source: str, filename: str = "<sandbox>") -> types.CodeType:
    """A cell's last bare expression, compiled under the same policy, to show its value."""
    result = compile_restricted_eval(source, filename=filename, policy=SandboxPolicy)
    if result.errors or result.code is None:
        raise CompileError("\n".join(result.errors) or "the code did not compile")
    return result.code


def _module_allowed(name: str) -> bool:
    if any(name == d or name.startswith(d + ".") for d in DENIED_SUBMODULES):
        return False
    if any(part.startswith("_") for part in name.split(".")):
        return False  # a package's private modules (`scipy._lib`): its helpers import and run by name
    return any(name == m or name.startswith(m + ".") for m in ALLOWED_MODULES)


class _SandboxMeta(type):
    """Metaclass of every class the sandbox defines, so the guards can tell them apart."""


_combined_metas: dict[type, type] = {}


class _MetaclassChooser:
    """`__metaclass__` of sandbox classes: `_SandboxMeta`, mixed with the bases' own metaclass.

    `class F(sympy.Function)` or `class Color(Enum)` need their base's metaclass (and its
    `__prepare__`); the class made is still recognisably the sandbox's.
    """

    @staticmethod
    def _meta(bases: tuple[Any, ...]) -> type:
        meta: type = _SandboxMeta
        for base in bases:
            m = type(base)
            if issubclass(meta, m):
                continue
            if issubclass(m, _SandboxMeta):
                meta = m
                continue
            combined = _combined_metas.get(m)
            if combined is None:
                combined = type(f"Sandboxed{m.__name__}", (m, _SandboxMeta), {})
                _combined_metas[m] = combined
            meta = combined
        return meta

    def __prepare__(self, name: str, bases: tuple[Any, ...], **kwargs: Any) -> Any:
        meta = self._meta(bases)
        prepare = getattr(meta, "__prepare__", None)
        return prepare(name, bases, **kwargs) if prepare else {}

    def __call__(self, name: str, bases: tuple[Any, ...], namespace: Any, **kwargs: Any) -> Any:
        return self._meta(bases)(name, bases, namespace, **kwargs)


def _is_sandbox_object(obj: Any) -> bool:
    return isinstance(obj, _SandboxMeta) or isinstance(type(obj), _SandboxMeta)


def _settable_types() -> tuple[type, ...]:
    """Library objects whose public attributes are settings (`getcontext().prec = 50`, `mp.dps = 50`)."""
    import decimal

    found: list[type] = [decimal.Context, types.SimpleNamespace]
    try:
        from mpmath.ctx_mp import MPContext

        found.append(MPContext)
    except ImportError:
        pass
    return tuple(found)


class _Printer:
    """What `print` is in sandboxed code, at module level and inside functions: the real stdout."""

    def _call_print(
        self, *objects: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
    ) -> None:
        if file is None:
            file = sys.stdout
        elif not isinstance(file, StreamView):
            raise TypeError("print(file=...) in the sandbox takes sys.stdout or sys.stderr only")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        file.write(sep.join(str(o) for o in objects) + end)


_PRINTER = _Printer()


class _GuardedFormatter(string.Formatter):
    """`str.format`: field names go through the attribute guard, as the code's own attribute reads do."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = guarded_getattr(obj, key) if is_attr else guarded_getitem(obj, key)
        return obj, first


_FORMATTER = _GuardedFormatter()


def _str_format(text: str) -> Callable[..., str]:
    def format(*args: Any, **kwargs: Any) -> str:
        return _FORMATTER.vformat(text, args, kwargs)

    return format


def _str_format_map(text: str) -> Callable[[Mapping[str, Any]], str]:
    def format_map(mapping: Mapping[str, Any]) -> str:
        return _FORMATTER.vformat(text, (), mapping)

    return format_map


def _is_namedtuple(obj: Any) -> bool:
    cls = obj if isinstance(obj, type) else type(obj)
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _owner(obj: Any) -> Any:
    """The object a `super()` object stands for; any other object itself."""
    return obj.__self__ if isinstance(obj, super) else obj  # type: ignore[attr-defined]


_MISSING = object()


def _own_private(obj: Any, name: str) -> bool:
    """A private name your own code gave the object: in its `__dict__` or a class of yours (not a
    library base's private helper, which may run text: `MonomialOps._build`)."""
    return _in_instance_dict(obj, name) or isinstance(_definer(obj, name), _SandboxMeta)


def _has_own(obj: Any, name: str) -> bool:
    """Whether `obj.name` exists without a `__getattr__` fallback (which a library base may forward
    to any object it holds). A `super()` object looks only in class namespaces."""
    if isinstance(obj, super) or _in_instance_dict(obj, name) or _definer(obj, name) is not None:
        return True
    return inspect.getattr_static(obj, name, _MISSING) is not _MISSING


def _in_instance_dict(obj: Any, name: str) -> bool:
    """Whether an instance (not a class) holds `name` in its own `__dict__`, read past any override."""
    if isinstance(obj, type):
        return False
    try:
        return name in object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return False


def _definer(obj: Any, name: str) -> Any:
    """The class whose namespace gives `obj.name` (through `super()` too), or None."""
    if isinstance(obj, super):
        mro = obj.__self_class__.__mro__  # type: ignore[attr-defined]
        mro = mro[mro.index(obj.__thisclass__) + 1 :]  # type: ignore[attr-defined]
    else:
        mro = (obj if isinstance(obj, type) else type(obj)).__mro__
    for klass in mro:
        if name in klass.__dict__:
            return klass
    return None


def _may_read_special(obj: Any, name: str) -> bool:
    """A special method of your own object (through `super()` too). `__getattr__` only where your
    class defines it: a library's, called by hand, reads any name of whatever object it forwards to."""
    if not (_is_sandbox_object(_owner(obj)) and _has_own(obj, name)):
        return False
    return name != "__getattr__" or isinstance(_definer(obj, name), _SandboxMeta)


# Python's own `__setattr__` / `__delattr__`: they write the object itself (a library class's may
# write elsewhere: typing's aliases write the class they stand for).
_PLAIN_WRITERS: tuple[type, ...] = (object, BaseException)


_PLAIN_WRITER_METHODS: dict[str, tuple[Any, ...]] = {
    name: tuple(plain.__dict__[name] for plain in _PLAIN_WRITERS) for name in ("__setattr__", "__delattr__")
}


def _plain_or_own_writer(obj: Any, name: str) -> bool:
    if not isinstance(obj, super):
        found = getattr(obj if isinstance(obj, type) else type(obj), name, None)
        plain, error = _PLAIN_WRITER_METHODS[name]
        if found is plain or found is error:
            return True
    definer = _definer(obj, name)
    return definer in _PLAIN_WRITERS or isinstance(definer, _SandboxMeta)


def guarded_getattr(obj: Any, name: str) -> Any:
    """`_getattr_` and the `getattr` builtin: private names only on sandbox objects, no gadgets."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name == "__class__":  # `x.__class__.__name__`: what `type(x)` gives
        return _TYPE(obj)
    if isinstance(obj, super) and not isinstance(obj.__thisclass__, _SandboxMeta):  # type: ignore[attr-defined]
        # `super(Base, x)` skips the overrides below Base: a stand-in's guarded methods among them
        raise AttributeError("super() outside your own classes is not available in the sandbox")
    if name in _ATTRIBUTE_WRITERS:
        return _attribute_writer(obj, name)
    if name.startswith("_"):
        # `super()` in your own class; not `super(LibraryClass, library_object)`. A name that your
        # object has only through a library base's `__getattr__` (which forwards it, unchecked, to
        # whatever object that base holds) is not your object's.
        allowed = (
            name in READABLE_DUNDERS
            or (_is_private_name(name) and _is_sandbox_object(obj) and _own_private(obj, name))
            or (name in DUNDER_METHODS and _may_read_special(obj, name))
            or (name in NAMEDTUPLE_API and _is_namedtuple(obj))
        )
        if not allowed:
            raise AttributeError(f'"{name}" is not accessible in the sandbox (names starting with "_")')
    if name in INSPECT_ATTRIBUTES:
        raise AttributeError(f'"{name}" is not accessible in the sandbox')
    if isinstance(obj, types.ModuleType) and not _module_allowed(obj.__name__):
        raise AttributeError(f'module "{obj.__name__}" is not available in the sandbox')
    if name in DENIED_ATTRIBUTES and not (_is_sandbox_object(obj) and _has_own(obj, name)):
        raise AttributeError(f'"{name}" is not available in the sandbox (native code, programs or test suites)')
    if isinstance(obj, str) and name in ("format", "format_map"):
        return _str_format(obj) if name == "format" else _str_format_map(obj)
    value = getattr(obj, name)
    if isinstance(value, types.ModuleType) and not _module_allowed(value.__name__):
        raise AttributeError(f'module "{value.__name__}" is not available in the sandbox')
    stand_in = _GUARDED_STAND_INS.get(id(value))
    if stand_in is not None:
        return stand_in
    if _is_gadget(value):
        raise AttributeError(f'"{name}" is not available in the sandbox (it runs, imports or reads what code may not)')
    return value


# Where a library re-exports one of these under a public name (mpmath's `exec_`, sympy's
# `import_module`, a ctypes type), the value is refused as its module would be.
_GADGET_MODULE_ROOTS: frozenset[str] = frozenset(
    [
        "ctypes",
        "_ctypes",
        "importlib",
        "subprocess",
        "_posixsubprocess",
        "os",
        "posix",
        "shutil",
        "pickle",
        "_pickle",
        "marshal",
        "multiprocessing",
        "_multiprocessing",
        "threading",
        "_thread",
        "socket",
        "_socket",
        "signal",
        "_signal",
        "pty",
        "runpy",
        "code",
        "codeop",
        "inspect",
        "gc",
        "sys",
        "io",
        "_io",
        "zipimport",
        "pkgutil",
        "site",
        "sysconfig",
        "tempfile",
        "pathlib",
        "glob",
        "fcntl",
        "mmap",
        "resource",
        "select",
        "selectors",
        "asyncio",
        "concurrent",
        "faulthandler",
        "tracemalloc",
        "sqlite3",
        "urllib",
        "http",
        "ssl",
        "_ssl",
        "dbm",
        "shelve",
        "weakref",
        "_weakref",
        "copyreg",
    ]
)
_GADGET_BUILTINS: frozenset[int] = frozenset(
    id(getattr(builtins, name))
    for name in [
        "eval",
        "exec",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "vars",
        "globals",
        "locals",
        "__import__",
        "open",
        "breakpoint",
        "input",
        "help",
        "memoryview",
    ]
    if hasattr(builtins, name)
)


def _is_gadget(value: Any) -> bool:
    """A function or class that runs text, imports, or reads unguarded, reached through an allowed module."""
    if id(value) in _GADGET_BUILTINS:
        return True
    if not isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
        return False
    module = getattr(value, "__module__", None)
    if type(module) is not str:
        return False
    return module.partition(".")[0] in _GADGET_MODULE_ROOTS


_ATTRIBUTE_WRITERS = ("__setattr__", "__delattr__")


def _attribute_writer(obj: Any, name: str) -> Callable[..., None]:
    """`__setattr__` / `__delattr__`: bound to one of your own objects as python gives it (and through
    `super()` in your class's own `__setattr__`); read on a class (`object.__setattr__(self, "n", v)` in
    a frozen dataclass) it works on your own objects only, so it is no way around the write guard."""
    owner = _owner(obj)
    if not _plain_or_own_writer(obj, name):
        raise AttributeError(f'"{name}" of {type(owner).__name__} objects is not accessible in the sandbox')
    if _is_sandbox_object(owner) and not isinstance(owner, type):
        bound = getattr(obj, name)

        def bound_writer(*args: Any) -> None:
            if args and (type(args[0]) is not str or (args[0].startswith("__") and args[0].endswith("__"))):
                raise AttributeError(f'"{args[0]}" cannot be set in the sandbox')
            bound(*args)

        return bound_writer
    if not isinstance(obj, type):
        raise AttributeError(f'"{name}" is not accessible in the sandbox (names starting with "_")')
    unbound = getattr(obj, name)

    def writer(target: Any, *args: Any) -> None:
        if not _is_sandbox_object(target) or isinstance(target, type):
            raise TypeError(f"{type(target).__name__} objects cannot be modified in the sandbox")
        if args and (type(args[0]) is not str or (args[0].startswith("__") and args[0].endswith("__"))):
            raise AttributeError(f'"{args[0]}" cannot be set in the sandbox')
        unbound(target, *args)

    return writer


def _dir(*obj: Any) -> list[str]:
    """`dir(x)`: the names python lists; `dir()`: the caller's own names, not the guards."""
    if obj:
        return builtins.dir(*obj)
    scope = sys._getframe(1).f_locals
    return sorted(k for k in scope if not (k.startswith("_") and k.endswith("_")) and k != "_print")


def _vars(obj: Any) -> Mapping[str, Any]:
    """`vars(x)` of your own objects, read-only (a write there would skip the guards); a library's
    namespace stays behind the guard."""
    if not _is_sandbox_object(obj) or isinstance(obj, type):
        raise TypeError(f"vars() of {type(obj).__name__} objects is not available in the sandbox")
    return types.MappingProxyType(obj.__dict__)


class _AttrGetter:
    """`operator.attrgetter` through the guard (python's reads any attribute of anything)."""

    def __init__(self, *names: str) -> None:
        if not names or not all(type(n) is str for n in names):
            raise TypeError("attrgetter takes attribute names (strings)")
        self._paths = [n.split(".") for n in names]

    def _get(self, obj: Any, path: list[str]) -> Any:
        for part in path:
            obj = guarded_getattr(obj, part)
        return obj

    def __call__(self, obj: Any) -> Any:
        values = [self._get(obj, p) for p in self._paths]
        return values[0] if len(values) == 1 else tuple(values)


class _MethodCaller:
    """`operator.methodcaller` through the guard."""

    def __init__(self, name: str, /, *args: Any, **kwargs: Any) -> None:
        if type(name) is not str:
            raise TypeError("method name must be a string")
        self._name, self._args, self._kwargs = name, args, kwargs

    def __call__(self, obj: Any) -> Any:
        return guarded_getattr(obj, self._name)(*self._args, **self._kwargs)


def _is_own_target(obj: Any) -> bool:
    """Your own class, object or function (a function whose globals are a sandbox namespace)."""
    if isinstance(obj, types.FunctionType):
        return obj.__globals__.get("_getattr_") is guarded_getattr
    return _is_sandbox_object(obj)


def _on_own(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A library decorator that sets attributes on what it decorates (`dataclass`, `total_ordering`,
    `typing.final`): on your own classes and functions only, in both its forms (`@d`, `@d(...)`)."""

    def check(target: Any) -> Any:
        if not _is_own_target(target):
            raise TypeError(f"{fn.__name__}() changes what it decorates: in the sandbox, your own classes only")
        return target

    @functools.wraps(fn)
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        if args:
            return fn(check(args[0]), *args[1:], **kwargs)
        decorate = fn(**kwargs)
        return lambda target: decorate(check(target))

    return stand_in


def _default_wrapper_fields(assigned: Any, updated: Any) -> None:
    for given, default in ((assigned, functools.WRAPPER_ASSIGNMENTS), (updated, functools.WRAPPER_UPDATES)):
        if given is not default and not (
            type(given) is tuple and all(type(x) is str for x in given) and given == default
        ):
            raise TypeError("functools.wraps copies the usual attributes only in the sandbox")


def _update_wrapper(
    wrapper: Any,
    wrapped: Any,
    assigned: Any = functools.WRAPPER_ASSIGNMENTS,
    updated: Any = functools.WRAPPER_UPDATES,
) -> Any:
    """`functools.update_wrapper` onto your own function, with the usual attributes (python's reads any
    attribute it is told to, of anything, and writes it anywhere)."""
    _default_wrapper_fields(assigned, updated)
    if not _is_own_target(wrapper):
        raise TypeError("update_wrapper() changes the wrapper: in the sandbox, your own functions only")
    return functools.update_wrapper(wrapper, wrapped)


def _wraps(
    wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS, updated: Any = functools.WRAPPER_UPDATES
) -> Callable[[Any], Any]:
    _default_wrapper_fields(assigned, updated)
    return lambda wrapper: _update_wrapper(wrapper, wrapped)


def _no_pickle(fn: Callable[..., Any]) -> Callable[..., Any]:
    """numpy's loaders with `allow_pickle=False` held: a pickle imports and calls what it names."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        if signature.bind(*args, **kwargs).arguments.get("allow_pickle"):
            raise ValueError("allow_pickle=True is not available in the sandbox (a pickle runs code)")
        return fn(*args, **kwargs)

    return stand_in


def _get_type_hints(obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False) -> Any:
    """`typing.get_type_hints`, with annotation text compiled by the policy and run with the guards
    (python's runs it with the real `eval`; cells keep annotations as text, as under
    `from __future__ import annotations`)."""
    guards = _base_guards()

    def scope_of(owner: Any) -> dict[str, Any]:
        functions = [owner] if isinstance(owner, types.FunctionType) else list(vars(owner).values())
        for f in functions:
            if isinstance(f, types.FunctionType) and _is_own_target(f):
                return f.__globals__  # a sandbox namespace: it holds the guards
        scope = _user_names(globalns) if isinstance(globalns, dict) else {}
        scope.update(guards)
        return scope

    def value(annotation: Any, scope: dict[str, Any]) -> Any:
        if isinstance(annotation, typing.ForwardRef):
            annotation = annotation.__forward_arg__
        if isinstance(annotation, str):
            local = _user_names(localns) if isinstance(localns, dict) else None
            return builtins.eval(_compile_annotation(annotation.strip()), scope, local)
        return annotation

    owners = list(reversed(obj.__mro__)) if isinstance(obj, type) else [obj]
    hints: dict[str, Any] = {}
    for owner in owners:
        annotations = vars(owner).get("__annotations__") if isinstance(owner, type) else None
        if not isinstance(owner, type):
            annotations = getattr(owner, "__annotations__", None)
        if isinstance(annotations, dict):
            scope = scope_of(owner)
            hints.update({k: value(v, scope) for k, v in annotations.items()})
    return hints


_REAL_GET_TYPE_HINTS = typing.get_type_hints

# Library callables that read attributes unguarded, run text, or change what they are given, and what
# code gets in their place (looked up by identity wherever code reaches them: an attribute, an import,
# `type(x)` of one of their objects). `preload_modules` adds those of numpy and sympy.
_GUARDED_STAND_INS: dict[int, Any] = {
    id(operator.attrgetter): _AttrGetter,
    id(operator.methodcaller): _MethodCaller,
    id(string.Formatter): _GuardedFormatter,
    id(functools.update_wrapper): _update_wrapper,
    id(functools.wraps): _wraps,
    id(functools.total_ordering): _on_own(functools.total_ordering),
    id(typing.get_type_hints): _get_type_hints,
    id(typing.final): _on_own(typing.final),
    id(typing.no_type_check): _on_own(typing.no_type_check),
}


def _add_library_stand_ins() -> None:
    import abc
    import dataclasses

    _GUARDED_STAND_INS[id(dataclasses.dataclass)] = _on_own(dataclasses.dataclass)
    _GUARDED_STAND_INS[id(dataclasses.make_dataclass)] = _make_dataclass
    if hasattr(abc, "update_abstractmethods"):
        _GUARDED_STAND_INS[id(abc.update_abstractmethods)] = _on_own(abc.update_abstractmethods)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return
    for loader in (np.load, np.lib.format.read_array, np.lib.npyio.NpzFile):
        _GUARDED_STAND_INS[id(loader)] = _no_pickle(loader)
    try:
        import sympy
    except ImportError:  # pragma: no cover - sympy is a dependency
        return
    _GUARDED_STAND_INS[id(sympy.lambdify)] = _lambdify_stand_in(sympy.lambdify)
    _GUARDED_STAND_INS[id(sympy.var)] = _var_stand_in(sympy.symbols)
    try:
        from networkx.utils.decorators import argmap
    except ImportError:  # pragma: no cover - networkx is optional
        return
    _GUARDED_STAND_INS[id(argmap)] = _refused("networkx's argmap writes its arguments into source it runs")


def _refused(why: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"not available in the sandbox: {why}")

    return refused


def _var_stand_in(symbols: Callable[..., Any]) -> Callable[..., Any]:
    """`sympy.var`: `symbols(...)`, bound in the calling cell (sympy's writes any name, a guard's too,
    into whatever frame is above it)."""

    def var(names: Any, **kwargs: Any) -> Any:
        made = symbols(names, **kwargs)
        scope = sys._getframe(1).f_globals
        if scope.get("_getattr_") is not guarded_getattr:
            raise TypeError("var() binds names in your own code only")
        pending = [made]
        while pending:
            item = pending.pop()
            if isinstance(item, (list, tuple, set)):
                pending.extend(item)
                continue
            name = getattr(item, "name", None)
            if type(name) is str and name.isidentifier() and not name.startswith("_"):
                scope[name] = item
        return made

    return var


def _make_dataclass(cls_name: Any, fields: Any, *args: Any, **kwargs: Any) -> Any:
    """`dataclasses.make_dataclass` with plain names: it writes field names into source it runs (a
    `str` subclass chooses what its `format` gives), and a namespace given takes no special names."""
    import dataclasses

    def plain(name: Any) -> str:
        if not isinstance(name, str) or not str.isidentifier(name):
            raise TypeError(f"make_dataclass takes identifiers as names, not {name!r}")
        return str.__str__(name)

    entries: list[Any] = []
    for field in fields:
        if isinstance(field, str):
            entries.append(plain(field))
        else:
            entries.append((plain(field[0]), *field[1:]))
    namespace = kwargs.get("namespace")
    if namespace is not None and any(not isinstance(k, str) or k.startswith("_") for k in namespace):
        raise TypeError("make_dataclass(namespace=...) takes public names only in the sandbox")
    return dataclasses.make_dataclass(plain(cls_name), entries, *args, **kwargs)


def _lambdify_stand_in(lambdify: Callable[..., Any]) -> Callable[..., Any]:
    """`sympy.lambdify` of expressions, not of text: it writes text it is given into the function's
    source as it is, and the names of undefined functions too."""
    import sympy
    from sympy.core.function import AppliedUndef

    @functools.wraps(lambdify)
    def stand_in(args: Any, expr: Any, *rest: Any, **kwargs: Any) -> Any:
        if "printer" in kwargs:
            raise TypeError("lambdify(printer=...) is not available in the sandbox")
        if isinstance(expr, str):
            expr = sympy.sympify(expr)  # through the policy (`harden_libraries`)
        if isinstance(args, str):
            args = sympy.symbols(args)
        tree = sympy.Tuple(*expr) if isinstance(expr, (list, tuple)) else sympy.sympify(expr)
        for item in sympy.preorder_traversal(tree):
            name = getattr(getattr(item, "func", None), "__name__", "")
            if isinstance(item, AppliedUndef) and not (name.isidentifier() and not name.startswith("_")):
                raise ValueError(f"lambdify: {name!r} is not a function name")
        return lambdify(args, expr, *rest, **kwargs)

    return stand_in


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
    """`_write_`: items of containers, attributes of sandbox objects and of settings objects."""
    if isinstance(obj, (types.ModuleType, type)) and not _is_sandbox_object(obj):
        raise TypeError(f"{type(obj).__name__} objects cannot be modified in the sandbox")
    if isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.CodeType)):
        raise TypeError("functions cannot be modified in the sandbox")
    if _is_sandbox_object(obj) and not isinstance(obj, type) and not _plain_or_own_writer(obj, "__setattr__"):
        return _ItemWriter(obj)  # a library base's `__setattr__` may write another object
    if _is_sandbox_object(obj) or isinstance(obj, (dict, list, bytearray)):
        return obj
    if isinstance(obj, _SETTABLE):
        return _SettingsWriter(obj)
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


class _SettingsWriter(_ItemWriter):
    """Settings objects (`getcontext().prec = 50`, `mp.dps = 50`): item writes and public attributes."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        if type(name) is not str or name.startswith("_"):
            raise AttributeError(f'"{name}" cannot be set in the sandbox')
        setattr(self._obj, name, value)


def _setattr_builtin(obj: Any, name: str, value: Any) -> None:
    if name.startswith("_") and not (_is_private_name(name) and _is_sandbox_object(obj)):
        raise AttributeError(f'"{name}" cannot be set in the sandbox')
    setattr(guarded_write(obj), name, value)


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    return _INPLACE[op](x, y)


class _TypeBuiltin:
    """`type`: `type(x)` as usual, except that a metaclass (`type(int)`) is not handed out."""

    __name__ = "type"

    def __call__(self, obj: Any, *rest: Any) -> Any:
        if rest:
            raise TypeError("type(name, bases, dict) is not available in the sandbox; use a class statement")
        cls = type(obj)
        if issubclass(cls, type) or cls.__module__ == __name__:
            # a metaclass (the sandbox's own too) builds classes from dicts and keywords; a class of
            # this module's (the `eval` builtin's, a stand-in's) works on whatever it is handed
            return self
        return _GUARDED_STAND_INS.get(id(cls), cls)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, type)

    def __repr__(self) -> str:
        return "<class 'type'>"


_TYPE = _TypeBuiltin()


@functools.lru_cache(maxsize=4096)
def _compile_text(source: str, mode: str) -> types.CodeType:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, filename="<string>", policy=SandboxPolicy)
    if result.errors or result.code is None:
        raise SyntaxError("\n".join(result.errors) or "the text did not compile")
    return result.code


# The guards the compiler writes into code it rewrites (`x[i]` is `_getitem_(x, i)`): cells keep their
# annotations as that rewritten text, which `typing.get_type_hints` evaluates.
_GUARD_CALLS: frozenset[str] = frozenset(
    [
        "_getattr_",
        "_getitem_",
        "_getiter_",
        "_iter_unpack_sequence_",
        "_unpack_sequence_",
        "_write_",
        "_inplacevar_",
        "_apply_",
    ]
)


class _AnnotationPolicy(SandboxPolicy):
    """The sandbox policy for annotation text, which may read (never bind) the guards by name."""

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in _GUARD_CALLS and isinstance(node.ctx, ast.Load):
            return node
        return super().visit_Name(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> Any:
        self.error(node, "assignment expressions are not allowed in annotations")
        return node


@functools.lru_cache(maxsize=1024)
def _compile_annotation(text: str) -> types.CodeType:
    result = compile_restricted_eval(text, filename="<annotation>", policy=_AnnotationPolicy)
    if result.errors or result.code is None:
        raise SyntaxError("\n".join(result.errors) or "the annotation did not compile")
    return result.code


class _TextCode:
    """`eval` and `exec` in the sandbox: the text is compiled under the sandbox policy, never as it is.

    Without namespaces it runs in the caller's (a cell's globals, a function's locals as a copy, as
    python gives them). Dicts given are copied into a namespace of the cell's guards and builtins,
    and what the text binds is copied back afterwards, so no dict the code can hold ever contains
    the builtins or the guards: `eval(text, {})` cannot lead to python's own builtins.
    """

    def __init__(self, namespace: dict[str, Any], mode: str) -> None:
        self._namespace = namespace
        self._mode = mode
        self.__name__ = mode

    def __call__(self, source: Any, globals: Any = None, locals: Any = None, /) -> Any:
        if isinstance(source, (bytes, bytearray)):
            source = bytes(source).decode()
        if not isinstance(source, str):
            raise TypeError(f"{self._mode}() takes a string in the sandbox, not {type(source).__name__}")
        code = _compile_text(source.strip() if self._mode == "eval" else source, self._mode)
        run = builtins.eval if self._mode == "eval" else builtins.exec
        if globals is None and locals is None:
            caller = sys._getframe(1)
            if caller.f_globals is self._namespace:
                return run(code, self._namespace, caller.f_locals)
            return run(code, self._namespace)
        given = [d for d in (globals, locals) if d is not None]
        for d in given:
            if type(d) is not dict:
                raise TypeError(f"{self._mode}() takes plain dicts as namespaces in the sandbox")
        scope = _user_names(globals or {})
        scope.update((k, v) for k, v in self._namespace.items() if _is_guard_name(k))
        inner = None if locals is None else _user_names(locals)
        try:
            return run(code, scope, inner)
        finally:
            # what the text bound goes back to the dicts given; the guards and builtins stay here
            for target, made in ((globals, scope), (locals, inner)):
                if target is not None and made is not None:
                    kept = {k: v for k, v in target.items() if not (type(k) is str and not _is_guard_name(k))}
                    target.clear()
                    target.update(_user_names(made))
                    target.update(kept)


def _is_guard_name(name: Any) -> bool:
    """`_getattr_`, `__builtins__`, `__metaclass__`...: names sandboxed code cannot write."""
    return type(name) is str and name[:1] == "_" and name[-1:] == "_"


def _user_names(namespace: dict[Any, Any]) -> dict[Any, Any]:
    """The names code can bind: plain strings only, so no key of the code's own class (a `str`
    subclass, an object equal to "__builtins__") can stand for a guard's slot in a namespace."""
    return {k: v for k, v in namespace.items() if type(k) is str and not _is_guard_name(k)}


def _exit(code: Any = None) -> None:
    raise SystemExit(code)


def _open_refused(*args: Any, **kwargs: Any) -> Any:
    raise PermissionError("open() is not available in the sandbox: print results instead of writing files")


class StreamView:
    """`sys.stdin`, `sys.stdout`, `sys.stderr` as sandboxed code sees them: reading and writing, nothing else."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(str(text))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def read(self, size: int = -1) -> str:
        return self._stream.read(size)

    def readline(self, size: int = -1) -> str:
        return self._stream.readline(size)

    def readlines(self) -> list[str]:
        return self._stream.readlines()

    def __iter__(self) -> Any:
        return iter(self._stream.readline, "")

    @property
    def buffer(self) -> Any:
        """`sys.stdin.buffer.read()`, common in contest programs: bytes of the same text."""
        return _BytesView(self._stream)


class _BytesView:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size).encode()

    def readline(self, size: int = -1) -> bytes:
        return self._stream.readline(size).encode()

    def readlines(self) -> list[bytes]:
        return [line.encode() for line in self._stream.readlines()]

    def write(self, data: bytes) -> int:
        self._stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self._stream.flush()


class SysShim:
    """`import sys` in sandboxed code: streams, limits and facts about the interpreter, nothing that reaches modules."""

    maxsize = sys.maxsize
    float_info = sys.float_info
    int_info = sys.int_info
    version_info = sys.version_info
    version = sys.version
    hexversion = sys.hexversion
    byteorder = sys.byteorder
    platform = sys.platform
    implementation_name = sys.implementation.name
    argv: ClassVar[list[str]] = ["main.py"]
    MAX_RECURSION = 100_000

    def __init__(self, stdin: Any) -> None:
        self.stdin = StreamView(stdin)
        self.stdout = StreamView(sys.stdout)
        self.stderr = StreamView(sys.stderr)

    def setrecursionlimit(self, limit: int) -> None:
        sys.setrecursionlimit(max(100, min(int(limit), self.MAX_RECURSION)))

    def getrecursionlimit(self) -> int:
        return sys.getrecursionlimit()

    def set_int_max_str_digits(self, maxdigits: int) -> None:
        sys.set_int_max_str_digits(maxdigits)

    def get_int_max_str_digits(self) -> int:
        return sys.get_int_max_str_digits()

    def getsizeof(self, obj: Any, *default: Any) -> int:
        return sys.getsizeof(obj, *default)

    def intern(self, text: str) -> str:
        return sys.intern(text)

    def exit(self, code: Any = 0) -> None:
        raise SystemExit(code)


class Importer:
    """`_import_`, `_import_from_`, `_import_star_` bound to one notebook namespace."""

    def __init__(self, modules: Mapping[str, types.ModuleType], namespace: dict[str, Any]) -> None:
        self.modules = modules
        self.namespace = namespace
        self.shims: dict[str, Any] = {"sys": SysShim(io.StringIO(""))}

    def _lookup(self, name: str) -> Any:
        if name in self.shims:
            return self.shims[name]
        if not _module_allowed(name):
            allowed = ", ".join(ALLOWED_MODULES)
            raise ImportError(f"import of '{name}' is not allowed in the sandbox (allowed: {allowed})")
        module = self.modules.get(name) or sys.modules.get(name)
        if module is None:
            # a submodule the warm worker did not load: the runtime's files are there, read-only
            module = importlib.import_module(name)
        return module

    def import_(self, name: str, fromlist: Iterable[str] = ()) -> Any:
        module = self._lookup(name)
        if fromlist:
            return module
        return self._lookup(name.split(".")[0])

    def import_from(self, module: Any, name: str) -> Any:
        # the attribute first (`from sympy import series` is the function), a submodule only if missing
        modname = getattr(module, "__name__", "module")
        missing = ImportError(f"cannot import name '{name}' from '{modname}'")  # CPython's words
        if isinstance(module, types.ModuleType) and not hasattr(module, name):
            sub = f"{module.__name__}.{name}"
            if _module_allowed(sub):
                try:
                    return self._lookup(sub)
                except ModuleNotFoundError as exc:
                    if exc.name != sub:  # the submodule exists; something it imports does not
                        raise
                    raise missing from None
            raise missing
        try:
            return guarded_getattr(module, name)
        except AttributeError as exc:
            raise ImportError(f"cannot import name '{name}' from '{modname}': {exc}") from None

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
        "StopAsyncIteration",
        "NotImplemented",
        "NotImplementedError",
        "Ellipsis",
        "isinstance",
        "issubclass",
        "Exception",
        "ArithmeticError",
        "RecursionError",
        "OverflowError",
        "LookupError",
        "BaseException",
        "bytearray",
        "memoryview",
        "aiter",
        "anext",
    ):
        if hasattr(builtins, name):
            b[name] = getattr(builtins, name)
    b["getattr"] = _getattr_builtin
    b["hasattr"] = _hasattr_builtin
    b["setattr"] = _setattr_builtin
    b["type"] = _TYPE
    b["open"] = _open_refused
    b["exit"] = b["quit"] = _exit
    b["dir"] = _dir
    b["vars"] = _vars
    b["__import__"] = _library_import
    b["__build_class__"] = builtins.__build_class__
    return b


def _library_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    # Native code inside libraries imports through the current frame's `__import__`: a real import
    # (sandboxed code cannot name `__import__` itself; the process layer holds either way).
    return builtins.__import__(name, globals, locals, fromlist, level)


def attach_stdin(namespace: dict[str, Any], stdin: Any) -> None:
    """Let the code in `namespace` read `stdin` as standard input (`input()`, `sys.stdin`) for this call."""

    def input(prompt: str = "") -> str:
        if prompt:
            sys.stdout.write(str(prompt))
        line = stdin.readline()
        if not line:
            raise EOFError("EOF when reading a line")
        return line.rstrip("\n")

    namespace["__builtins__"]["input"] = input
    importer = namespace["_import_"].__self__
    importer.shims["sys"] = SysShim(stdin)


def new_namespace(modules: Mapping[str, types.ModuleType]) -> dict[str, Any]:
    """A fresh notebook namespace: the guards, the builtins and nothing else."""
    # classes defined in cells name this module (dataclasses and pickle look it up)
    sys.modules.setdefault(SANDBOX_MODULE, types.ModuleType(SANDBOX_MODULE))
    ns: dict[str, Any] = {}
    importer = Importer(modules, ns)
    ns.update(
        {
            "__builtins__": _builtins(),
            "__name__": SANDBOX_MODULE,
            "__metaclass__": _MetaclassChooser(),
            "_getattr_": guarded_getattr,
            "_getitem_": guarded_getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": guarded_write,
            "_inplacevar_": _inplacevar,
            # C-level: a library that writes into its caller's globals (`sympy.var`) finds the
            # cell's frame, never this module's
            "_apply_": operator.call,
            "_print_": lambda _getattr=None: _PRINTER,
            "_import_": importer.import_,
            "_import_from_": importer.import_from,
            "_import_star_": importer.import_star,
        }
    )
    ns["__builtins__"]["eval"] = _TextCode(ns, "eval")
    ns["__builtins__"]["exec"] = _TextCode(ns, "exec")
    return ns


_REFUSED_EVENTS = (
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "subprocess.Popen",
    "socket.",
    "ctypes.dlopen",
    "os.fork",
    "os.forkpty",
    "pty.",
)


def install_audit_hook() -> None:
    """Readable errors for what sandboxed code has no business doing (the process layer refuses it anyway)."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event.startswith(_REFUSED_EVENTS):
            raise PermissionError(f"the sandbox does not run programs, processes or connections ('{event}')")

    sys.addaudithook(hook)


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
        "scipy.stats",  # its distributions run generated code (`harden_libraries`): loaded once, here
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
        sympy.sympify("(x+1)**2")
        sympy.lambdify(x, x**2)(2)
        sympy.nsolve(sympy.cos(x) - x, x, 1)
        import datetime

        datetime.datetime.strptime("2024-01-02", "%Y-%m-%d")
    except Exception:
        pass
    _add_library_stand_ins()
    allowed = {n: m for n, m in sys.modules.items() if m is not None and _module_allowed(n)}
    return allowed


def _guards_for(target: dict[Any, Any]) -> dict[str, Any]:
    """The guards, with an importer that binds into `target` (`from numpy import *` in a library's
    `exec(text, {}, namespace)` fills `namespace`)."""
    importer = Importer({}, target)
    guards = dict(_base_guards())
    guards.update(
        {"_import_": importer.import_, "_import_from_": importer.import_from, "_import_star_": importer.import_star}
    )
    return guards


_BASE_GUARDS: dict[str, Any] = {}


def _base_guards() -> dict[str, Any]:
    """The guards and sandbox builtins of a namespace, made once: library code run for sandboxed code
    (`harden_libraries`, annotation text) gets these."""
    if not _BASE_GUARDS:
        _BASE_GUARDS.update({k: v for k, v in new_namespace({}).items() if _is_guard_name(k)})
    return _BASE_GUARDS


def _library_compile(source: Any, filename: str = "<string>", mode: str = "exec", *args: Any, **kwargs: Any) -> Any:
    """`compile` for the libraries that turn text into code (sympy's parsers and lambdify, mpmath's
    identify): the text, or the tree they built from it, compiled by the policy."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, filename="<library>", policy=SandboxPolicy)
    if result.errors or result.code is None:
        raise SyntaxError("\n".join(result.errors) or "the text did not compile")
    return result.code


def _library_run(mode: str) -> Callable[..., Any]:
    run = builtins.eval if mode == "eval" else builtins.exec

    def run_text(code: Any, globals: Any = None, locals: Any = None) -> Any:
        if isinstance(code, (str, bytes)):
            code = _library_compile(code, mode=mode)
        elif not isinstance(code, types.CodeType):  # only `_library_compile` makes the code these modules run
            raise TypeError("this library can only run text here")
        scope = {} if globals is None else globals
        # the guards go into the very dict: functions defined there look them up when called
        scope.update(_guards_for(scope if locals is None else locals))
        return run(code, scope, locals)

    run_text.__name__ = mode
    return run_text


def harden_libraries() -> None:
    """In the sandbox's runner, whose every caller is sandboxed code: the few library modules that turn
    text into code get the policy's `compile` and guarded `eval`/`exec` as their module globals, so
    what they compile is checked and what they run has the guards and the sandbox's builtins:
    sympy's parsers (`sympify("...")`, `parse_expr`, `evaluate=False`, the ast parser), `lambdify`
    (its generated source, printed from expressions whose names and printers code controls) and
    mpmath's `identify` (constants given as text). sympy's parser scope also loses the builtins it
    copies in (`getattr`, `eval`, `open`...), and `typing.get_type_hints` (which `singledispatch` calls
    too) compiles annotation text by the policy. The host's own sympy (the grader's) is left as it is."""
    import importlib

    _base_guards()
    for name in (
        "sympy.parsing.sympy_parser",
        "sympy.parsing.ast_parser",
        "sympy.utilities.lambdify",
        "mpmath.identification",
        "sympy.polys.monomials",  # builds code from what a subclass's own `_vars` returns
        "scipy.stats._distn_infrastructure",  # runs `_parse_arg_template`, which a subclass can set
    ):
        module = sys.modules.get(name)  # preloaded by the warm worker (`preload_modules`)
        if module is None:
            try:
                module = importlib.import_module(name)
            except ImportError:  # pragma: no cover - scipy is optional
                continue
        module.compile = _library_compile  # type: ignore[attr-defined]
        module.eval = _library_run("eval")  # type: ignore[attr-defined]
        module.exec = _library_run("exec")  # type: ignore[attr-defined]

    from sympy.parsing import sympy_parser

    def eval_expr(code: Any, local_dict: Any, global_dict: Any) -> Any:
        # parse_expr's global dict holds every builtin function (getattr, eval, open...): not here
        scope = {k: v for k, v in global_dict.items() if not _is_gadget(v)}
        own = {k: v for k, v in local_dict.items() if not _is_guard_name(k)}
        try:
            return _library_run("eval")(code, scope, own)
        finally:
            local_dict.update(own)

    sympy_parser.eval_expr = eval_expr
    typing.get_type_hints = _get_type_hints


_SETTABLE: tuple[type, ...] = _settable_types()


__all__ = [
    "ALLOWED_MODULES",
    "CompileError",
    "compile_code",
    "new_namespace",
    "preload_modules",
]
