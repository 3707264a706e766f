"""The language layer on its own, in this process: readable refusals, and plain Python for the rest."""

import contextlib
import io
import sys

import pytest

from start_tui.sandbox import policy
from start_tui.sandbox.policy import CompileError, compile_code, new_namespace


def run(code: str, stdin: str = "") -> tuple[dict, str]:
    ns = new_namespace()
    out = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out):
            exec(compile_code(code), ns)
    finally:
        sys.stdin = old_stdin
    return ns, out.getvalue()


def plain(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<plain>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ("os", "it has no files"),
        ("subprocess", "it runs no programs"),
        ("socket", "it has no network"),
        ("ctypes", "it loads no native code"),
        ("os.path", "it has no files"),
        ("urllib.request", "it has no network"),
    ],
)
def test_an_import_of_what_the_sandbox_lacks_is_refused_in_one_line_with_its_reason(module: str, why: str):
    for code in (f"import {module}", f"x = 1\nfrom {module} import *"):
        with pytest.raises(CompileError) as info:
            compile_code(code)
        message = str(info.value)
        assert info.value.kind == "ImportError" and "\n" not in message
        assert f"import of '{module}' is not available in the sandbox ({why})" in message
        assert message.startswith(f"Line {code.count(chr(10)) + 1}: ") and "numpy, sympy" in message


def test_syntax_errors_are_still_syntax_errors():
    with pytest.raises(CompileError) as info:
        compile_code("x = (")
    assert info.value.kind == "SyntaxError"


def test_a_guarded_import_falls_back_as_in_python():
    code = (
        "try:\n    import numba\nexcept ImportError:\n    numba = None\n"
        "try:\n    import os\nexcept (ValueError, ModuleNotFoundError) as e:\n"
        "    print(type(e).__name__, 'os' in str(e))\n"
        "print(numba)"
    )
    assert run(code)[1] == "ModuleNotFoundError True\nNone\n"


@pytest.mark.parametrize(
    "code", ["__import__('os')", "exec('import subprocess')", "eval(\"__import__('socket')\")", "from . import x"]
)
def test_imports_made_at_run_time_or_relative_are_refused_readably(code: str):
    with pytest.raises((ImportError, CompileError)) as info:
        run(code)
    assert "sandbox" in str(info.value)


def test_open_is_refused_but_standard_input_reads():
    with pytest.raises(PermissionError, match=r"open\(\) is not available in the sandbox"):
        run("open('/etc/hostname')")
    with pytest.raises(PermissionError):
        run("open(0, 'w')")
    assert run("print(open(0).read().split())", stdin="1 2\n3\n")[1] == "['1', '2', '3']\n"
    assert run("import sys\nprint(sys.stdin.buffer.read())", stdin="x\n")[1] == "b'x\\n'\n"
    assert run("print(input() + input())", stdin="a\nb\n")[1] == "ab\n"


SOLVER_IDIOMS = [
    # names and attributes with underscores, introspection and special methods, as in Python
    "class V:\n    __slots__ = ('_x',)\n    def __init__(self, x):\n        self._x = x\n"
    "    def __add__(self, o):\n        return V(self._x + o._x)\n"
    "    def __repr__(self):\n        return f'V({self._x})'\n"
    "print(V(1) + V(2), V.__name__, type(V(1)).__mro__[-1].__name__, hasattr(V(1), '__dict__'))",
    "import functools\n@functools.lru_cache(maxsize=None)\ndef f(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\n"
    "print(f(80), f.cache_info().hits, f.__wrapped__.__name__)",
    "from dataclasses import dataclass, field\nimport typing\n@dataclass(order=True)\nclass P:\n    x: int\n"
    "    tags: list = field(default_factory=list)\nprint(sorted([P(2), P(1)]), typing.get_type_hints(P))",
    "import sympy\nx = sympy.symbols('x')\n"
    "print(sympy.factor(x**4 - 1), sympy.sympify('2*x + x'), sympy.lambdify(x, x**2)(3))",
    "import numpy as np\na = np.arange(6).reshape(2, 3)\na[0, 1] += 10\n"
    "print(a.T.tolist(), a.__array_interface__['shape'])",
    "match [1, (2, 3)]:\n    case [a, (b, *rest)] if a < b:\n        print('matched', a, b, rest)",
    "g = (i * i for i in range(5))\nprint(next(g), list(g), getattr(g, 'gi_running'), __name__)",
    "import sys\nsys.setrecursionlimit(5000)\n"
    "print(sys.getrecursionlimit(), sum(sys.modules['math'].__dict__['comb'](10, k) for k in range(11)))",
    "import threading\nout = []\nt = threading.Thread(target=lambda: out.append(6 * 7))\n"
    "t.start()\nt.join()\nprint(out)",
    "print(eval('1 + 2'), [exec('y = 5', globals()), y][1])",
    "import io\nbuf = io.StringIO()\nprint('x', file=buf)\n"
    "print(repr(buf.getvalue()), f'{3.14159:.2f}', '{0.real}'.format(3j))",
]


@pytest.mark.parametrize("code", SOLVER_IDIOMS, ids=range(len(SOLVER_IDIOMS)))
def test_everything_else_runs_as_plain_python(code: str):
    assert run(code)[1] == plain(code)


def test_the_layer_leaves_libraries_and_builtins_as_they_are():
    import builtins
    import typing

    import sympy

    before = (sympy.sympify, typing.get_type_hints, builtins.open, builtins.__import__)
    ns, _ = run("import sympy, typing\nsympy.sympify('x')\nr = open, __import__")
    assert (sympy.sympify, typing.get_type_hints, builtins.open, builtins.__import__) == before
    assert ns["r"] == (policy._open, policy._import)
    assert {k for k, v in ns["__builtins__"].items() if v is not getattr(builtins, k)} == {"open", "__import__"}
