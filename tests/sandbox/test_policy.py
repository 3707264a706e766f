"""The language layer on its own, in this process: what compiles, what the guards let through."""

import pytest

from start_tui.sandbox.policy import CompileError, OutputBuffer, compile_code, new_namespace, preload_modules

MODULES = preload_modules()


def run(code: str) -> tuple[dict, str]:
    out = OutputBuffer(10_000)
    ns = new_namespace(MODULES, out)
    exec(compile_code(code), ns)
    return ns, out.take()[0]


def test_augmented_assignment_on_items_and_attributes_evaluates_each_part_once():
    _ns, printed = run(
        "calls = []\n"
        "def key():\n    calls.append(1)\n    return 'a'\n"
        "d = {'a': 1}\nd[key()] += 5\n"
        "class C:\n    def __init__(self):\n        self.n = 1\n"
        "c = C()\nc.n *= 7\nprint(d['a'], c.n, len(calls))"
    )
    assert printed == "6 7 1\n"


def test_library_containers_accept_item_writes():
    _, printed = run(
        "import numpy as np\nfrom collections import Counter, defaultdict\n"
        "a = np.zeros(3)\na[1] += 2\nc = Counter()\nc['x'] += 1\nd = defaultdict(list)\nd['k'].append(1)\n"
        "print(a.tolist(), c['x'], dict(d))"
    )
    assert printed == "[0.0, 2.0, 0.0] 1 {'k': [1]}\n"


def test_print_inside_functions_reaches_the_same_output():
    _, printed = run("def f(x):\n    print('in', x)\nf(1)\nprint('out')")
    assert printed == "in 1\nout\n"


def test_imports_are_rewritten_and_checked_against_the_allow_list():
    _, printed = run(
        "import numpy.linalg\nimport sympy as sp\nfrom math import comb, gcd as g\nfrom sympy import *\n"
        "print(numpy.linalg.det(numpy.eye(2)), sp.isprime(7), comb(5, 2), g(4, 6), factorint(12))"
    )
    assert printed == "1.0 True 10 2 {2: 2, 3: 1}\n"
    for code in (
        "import os",
        "from subprocess import run",
        "import numpy.ctypeslib",
        "from sympy.external import importtools",
    ):
        with pytest.raises(ImportError, match="not allowed"):
            run(code)


def test_private_attributes_only_on_sandbox_objects():
    _, printed = run(
        "class A:\n    def __init__(self):\n        self._v = 3\n"
        "    def get(self):\n        return self._v\nprint(A().get())"
    )
    assert printed == "3\n"
    with pytest.raises(AttributeError, match="not accessible"):
        run("import fractions\nfractions.Fraction(1, 2)._numerator")


def test_super_init_works():
    _, printed = run(
        "class A:\n    def __init__(self, v):\n        self.v = v\n"
        "class B(A):\n    def __init__(self):\n        super().__init__(5)\nprint(B().v)"
    )
    assert printed == "5\n"


@pytest.mark.parametrize(
    "code",
    [
        "().__class__",
        "_getattr_ = getattr",
        "def f(_getattr_=1, /):\n    pass",
        "eval('1')",
        "x = (i for i in [1])\nx.gi_frame",
        "_aug1_ = 1",
        "from . import x",
    ],
)
def test_escapes_are_refused_at_compile_time(code):
    with pytest.raises(CompileError):
        compile_code(code)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("getattr((), '__class__')", AttributeError),
        ("'{0.__class__}'.format(1)", AttributeError),
        ("import string\nstring.Formatter", AttributeError),
        ("import numpy as np\nnp.load", AttributeError),
        ("import numpy as np\nnp.zeros(2).tofile", AttributeError),
        ("import math\nmath.pi = 3", TypeError),
        ("import sympy\nsympy.lambdify", AttributeError),
    ],
)
def test_gadgets_are_refused_at_run_time(code, error):
    with pytest.raises(error):
        run(code)


def test_output_is_capped():
    out = OutputBuffer(10)
    out.write("0123456789abc")
    out.write("more")
    assert out.take() == ("0123456789", 7)
