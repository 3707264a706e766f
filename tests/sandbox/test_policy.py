"""The language layer on its own, in this process: what compiles, what the guards let through."""

import contextlib
import io

import pytest

from start_tui.sandbox.policy import CompileError, compile_code, new_namespace, preload_modules

MODULES = preload_modules()


def run(code: str) -> tuple[dict, str]:
    ns = new_namespace(MODULES)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile_code(code), ns)
    return ns, out.getvalue()


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
    for code in ("import os", "from subprocess import run", "import numpy.ctypeslib", "import ctypes"):
        with pytest.raises(ImportError, match="not allowed"):
            run(code)


def test_from_a_package_import_prefers_the_function_over_a_submodule_of_the_same_name():
    _, printed = run(
        "from sympy import simplify, series, sin, symbols\nx = symbols('x')\nprint(series(sin(x), x, 0, 4))"
    )
    assert printed == "x - x**3/6 + O(x**4)\n"


def test_a_name_a_module_lacks_gives_cpythons_import_error():
    # what a model reads back after `from sympy import square` must name the real mistake
    for code, words in (
        ("from sympy import square", "cannot import name 'square' from 'sympy'$"),
        ("from math import nosuch", "cannot import name 'nosuch' from 'math'$"),
        ("from numpy.linalg import nosuch", "cannot import name 'nosuch' from 'numpy.linalg'$"),
    ):
        with pytest.raises(ImportError, match=words) as caught:
            run(code)
        assert type(caught.value) is ImportError  # not ModuleNotFoundError for a submodule never asked for
    _, printed = run("from sympy import ntheory\nprint(ntheory.isprime(97))")  # a real submodule still loads
    assert printed == "True\n"


def test_private_attributes_only_on_sandbox_objects():
    _, printed = run(
        "class A:\n    def __init__(self):\n        self._v = 3\n"
        "    def _get(self):\n        return self._v\n_helper = A()._get\nprint(_helper())"
    )
    assert printed == "3\n"
    with pytest.raises(AttributeError, match="not accessible"):
        run("import fractions\nfractions.Fraction(1, 2)._numerator")


def test_solver_constructs_that_restricted_python_refuses_by_default():
    _, printed = run(
        "from dataclasses import dataclass\nfrom collections import namedtuple\nfrom enum import Enum\n"
        "from decimal import Decimal, getcontext\nimport mpmath, sympy\n"
        "@dataclass\nclass P:\n    x: int\n    y: int = 2\n"
        "class V:\n    def __init__(self, a):\n        self.a = a\n"
        "    def __add__(self, o):\n        return V(self.a + o.a)\n"
        "    def __repr__(self):\n        return f'V({self.a})'\n"
        "def counter():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n        return n\n"
        "    return inc\n"
        "c = counter(); c()\n"
        "match c():\n    case 2:\n        kind = 'two'\n    case _:\n        kind = 'other'\n"
        "Pt = namedtuple('Pt', 'a b')\nq = Pt(1, 2)._replace(b=5)\n"
        "class Color(Enum):\n    RED = 1\n"
        "getcontext().prec = 30\nmpmath.mp.dps = 30\n"
        "class f(sympy.Function):\n    @classmethod\n    def eval(cls, n):\n"
        "        if n.is_Integer:\n            return n * 2\n"
        "seen: dict[int, int] = {}\n"
        "print(P(1), V(1) + V(2), kind, q._asdict(), Color.RED.name, type(q).__name__, '{:.3f}'.format(2 / 3),"
        " Decimal(1) / Decimal(7), f(sympy.Integer(4)))"
    )
    assert printed == ("P(x=1, y=2) V(3) two {'a': 1, 'b': 5} RED Pt 0.667 0.142857142857142857142857142857 8\n")


def test_super_init_works():
    _, printed = run(
        "class A:\n    def __init__(self, v):\n        self.v = v\n"
        "class B(A):\n    def __init__(self):\n        super().__init__(5)\nprint(B().v)"
    )
    assert printed == "5\n"


def test_script_idioms_run_as_under_python():
    ns = new_namespace(MODULES)
    out = io.StringIO()
    code = compile_code(
        "from __future__ import annotations\n"
        "class Account:\n    def __init__(self, v: int) -> None:\n        self.__v = v\n"
        "    def __double(self):\n        return 2 * self.__v\n"
        "    def value(self):\n        return self.__double()\n"
        "printed = set()\nprinted.add(Account(21).value())\n"
        "def main():\n    print(sorted(printed), __name__, Account(1)._Account__v)\n"
        'if __name__ == "__main__":\n    main()\n'
        "exit()\nprint('not reached')"
    )
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        exec(code, ns)
    assert out.getvalue() == "[42] __main__ 1\n"
    assert ns["Account"].__init__.__annotations__ == {"v": "int", "return": "None"}  # postponed: strings


def test_attribute_hooks_and_introspection_on_your_own_objects():
    _, printed = run(
        "from dataclasses import dataclass, field\n"
        "@dataclass(frozen=True)\nclass P:\n    x: int\n    n: int = field(init=False)\n"
        "    def __post_init__(self):\n        object.__setattr__(self, 'n', self.x ** 2)\n"
        "class Loud:\n    def __setattr__(self, k, v):\n        super().__setattr__(k, v * 2)\n"
        "    def __getattr__(self, k):\n        return k.upper()\n"
        "loud = Loud()\nloud.v = 4\n"
        "print(P(3).n, loud.v, loud.missing, vars(loud), 'P' in dir(), 'numerator' in dir(1))"
    )
    assert printed == "9 8 MISSING {'v': 8} True True\n"


@pytest.mark.parametrize(
    "code",
    [
        "object.__setattr__(f, '_numerator', 5)",
        "class A:\n    pass\nA.__setattr__(f, '_numerator', 5)",
        "super(object, f).__setattr__('_numerator', 5)",
        "f.__setattr__('_numerator', 5)",
        "object.__delattr__(f, '_numerator')",
        "object.__setattr__(int, 'q', 1)",
        "vars(fractions)",
        "vars(f)",
        "super(fractions.Fraction, f).__init__()",
        "import numpy\nnumpy.__getattr__('ctypeslib')",
    ],
)
def test_attribute_hooks_give_no_way_around_the_write_guard(code):
    with pytest.raises((TypeError, AttributeError)):
        run("import fractions\nf = fractions.Fraction(1, 2)\n" + code)


ARRAYTERATOR_SUBCLASS = (
    "import numpy as np\nclass A(np.lib.Arrayterator):\n    def __init__(self, var):\n        self.var = var\n"
)


@pytest.mark.parametrize(
    "code",
    [
        # a key of the code's own class standing for "__builtins__" in a namespace handed to exec
        "class S(str):\n    def startswith(self, *a):\n        return False\n"
        "d = {S('__builtins__'): 0}\nexec('pass', d)\nd['__builtins__']['__import__']('os')",
        "class K:\n    def __hash__(self):\n        return hash('__builtins__')\n"
        "    def __eq__(self, other):\n        return other == '__builtins__'\n"
        "k = K()\nd = {k: 0}\nexec('pass', d)\nd[k]['__import__']('os')",
        # a library base's __getattr__ forwards any name, unchecked, to the object it holds
        ARRAYTERATOR_SUBCLASS + "def f():\n    pass\nA(f).__getattr__('__globals__')",
        ARRAYTERATOR_SUBCLASS + "A(eval)._namespace",
        ARRAYTERATOR_SUBCLASS + "A(np).memmap",
        # a library class's __setattr__ that writes another object; planting through vars()
        "import typing, math\nclass O:\n    pass\ntype(typing.List[int]).__setattr__(O(), 'pi', 3)",
        "class O:\n    pass\no = O()\nvars(o)['__origin__'] = 1",
        # the sandbox's own metaclass builds classes from dicts and keywords
        "import typing\nclass C:\n    pass\ntype(C)('G', (type(typing.List[int]),), {}, _root=True)",
        # operator's attribute readers, however they are reached
        "import operator\noperator.attrgetter('__globals__')(lambda: 0)",
        "from operator import attrgetter\ndef g():\n    yield 1\nattrgetter('gi_frame')(g())",
        "import operator\noperator.methodcaller('__getattribute__', '__globals__')(lambda: 0)",
        "import operator\ntype(operator.attrgetter('real'))('__globals__')(lambda: 0)['__builtins__']",
    ],
)
def test_red_team_routes_around_the_guards_stay_closed(code):
    with pytest.raises((TypeError, AttributeError)):
        run(code)


@pytest.mark.parametrize(
    "code",
    [
        # library helpers that read any attribute, run text or import by name, under public names
        "import string\ndef g():\n    pass\nstring.Formatter().get_field('0.__globals__', (g,), {})",
        "from mpmath.libmp.backend import exec_",
        "import sympy.core.cache\nsympy.core.cache.import_module('os')",
        "import sympy.external\nsympy.external.import_module('os')",
        "from sympy.utilities.source import get_class",
        "import scipy._lib.deprecation",
        "from sympy.external.gmpy import c_long",
        "from networkx.utils.backends import entry_points",
        # a pickle imports and calls what it names
        "import numpy as np\nnp.load('x.npy', allow_pickle=True)",
        # helpers that write attributes of what they are given
        "import functools, statistics\ndef g():\n    pass\n"
        "functools.update_wrapper(statistics.median, g, assigned=('__code__',), updated=())",
        "import functools, statistics\ndef g():\n    pass\nfunctools.update_wrapper(statistics.median, g)",
        "import dataclasses, fractions\ndataclasses.dataclass(fractions.Fraction)",
        "import functools, fractions\nfunctools.total_ordering(fractions.Fraction)",
        "import typing, statistics\ntyping.final(statistics.mean)",
        # lambdify writes the names of undefined functions into its source
        "import sympy\nx = sympy.Symbol('x')\nsympy.lambdify(x, sympy.Function('__import__')(x))",
        # a library base's private helper (it runs text) is not your object's
        "from sympy.polys.monomials import MonomialOps\nclass M(MonomialOps):\n    pass\nM(2)._build('b = 1', 'b')",
        # the classes of the policy's own objects, and super() past a stand-in's override
        "d = {}\ntype(exec)(d, 'exec')('g = 1')",
        "import string\nsuper(string.Formatter, string.Formatter()).get_field('0.real', (1,), {})",
        # settings objects take public names only; no object changes its class
        "import mpmath\nmpmath.mp._zz = 1",
        "class A:\n    pass\nclass B:\n    pass\nobject.__setattr__(A(), '__class__', B)",
        "class A:\n    pass\na = A()\na.__setattr__('__class__', A)",
        # sympy.var writes into the frame above it; magic.pollute too; argmap and make_dataclass
        # write what they are given into source they run
        "import sympy, numpy\nclass W(sympy.Symbol):\n    def __call__(self, o):\n        return o\n"
        "sympy.var(*['_write_'], cls=W)\nnumpy.pi = 3",
        "import sympy\nclass Y(sympy.Symbol):\n    def __call__(self, *a):\n        return True\n"
        "sympy.var(*['_module_allowed'], cls=Y)\nimport os",
        "from sympy.utilities.magic import pollute",
        "from networkx.utils.decorators import argmap\nargmap(abs, 'k')",
        "import dataclasses\ndataclasses.make_dataclass('K', ['a=1'])",
        # annotation text goes through the policy
        "import dataclasses, typing\nC = dataclasses.make_dataclass('C', [('x', '__import__(\"os\")')])\n"
        "typing.get_type_hints(C)",
        "import dataclasses, typing\nC = dataclasses.make_dataclass('C', [('x', '(_getattr_ := 1)')])\n"
        "typing.get_type_hints(C)",
    ],
)
def test_library_gadgets_are_refused_or_stand_ins(code):
    with pytest.raises((TypeError, AttributeError, ImportError, ValueError, SyntaxError)):
        run(code)


def test_stand_ins_serve_ordinary_solver_code():
    _, printed = run(
        "import functools, dataclasses, string, typing, sympy\n"
        "def memo(f):\n    cache = {}\n    @functools.wraps(f)\n    def wrapper(n):\n"
        "        if n not in cache:\n            cache[n] = f(n)\n        return cache[n]\n    return wrapper\n"
        "@memo\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
        "@dataclasses.dataclass(frozen=True)\nclass P:\n    x: int\n"
        "@functools.total_ordering\nclass V:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __eq__(self, o):\n        return self.v == o.v\n"
        "    def __lt__(self, o):\n        return self.v < o.v\n"
        "def h(a: int, b: list[int]) -> int:\n    return a\n"
        "x = sympy.Symbol('x')\n"
        "print(fib(80), fib.__name__, P(3), V(1) <= V(2), string.Formatter().format('{0.real}-{1}', 3, 'a'),"
        " typing.get_type_hints(h), sympy.lambdify(x, x**2 + 1)(3), typing.get_type_hints(P),"
        " sympy.var('p q'), p + q, dataclasses.make_dataclass('Q', ['a', ('b', int)])(1, 2))\n"
        # a str subclass as a field name is made plain: its own format() never reaches the source
        "class N(str):\n    def __format__(self, spec):\n        return 'a=a\\n  self.b = 1\\n  self.a'\n"
        "print(hasattr(dataclasses.make_dataclass('K', [N('a')])(1), 'b'))"
    )
    assert printed == (
        "23416728348467685 fib P(x=3) True 3-a {'a': <class 'int'>, 'b': list[int], 'return': <class 'int'>}"
        " 10 {'x': <class 'int'>} (p, q) p + q Q(a=1, b=2)\nFalse\n"
    )


def test_operator_attrgetter_and_methodcaller_still_serve_solver_code():
    _, printed = run(
        "import operator\nfrom operator import attrgetter\n"
        "class P:\n    def __init__(self, x):\n        self.x = x\n"
        "ps = sorted([P(3), P(1)], key=attrgetter('x'))\n"
        "print([p.x for p in ps], operator.methodcaller('upper')('ab'), operator.attrgetter('real', 'imag')(3 + 4j))"
    )
    assert printed == "[1, 3] AB (3.0, 4.0)\n"


def test_a_mangled_private_name_is_still_refused_on_library_objects():
    with pytest.raises(AttributeError, match="not accessible"):
        run(
            "import fractions\nclass Fraction:\n    def peek(self, f):\n        return f.__x\n"
            "Fraction().peek(fractions.Fraction(1))"
        )


def test_eval_and_exec_compile_their_text_under_the_policy():
    _, printed = run(
        "import itertools\n"
        "def f(x):\n    y = 3\n    return eval('x * y + 1')\n"
        "ns = {'a': 2}\nexec('b = a * 10\\nclass Q:\\n    pass', ns)\n"
        "exec('top = 7')\n"
        "hits = [s for a, b in itertools.permutations([3, 8], 2) for op in '+-*/'"
        " if eval(s := f'{a}{op}{b}') == 24]\n"
        "try:\n    eval('1 +')\nexcept SyntaxError:\n    bad = 'syntax'\n"
        "print(f(5), ns['b'], sorted(ns), top, hits, eval('q', {}, {'q': 9}), bad,"
        " list(map(eval, ['2**5'])), eval(b'1+1'))"
    )
    assert printed == "16 20 ['Q', 'a', 'b'] 7 ['3*8', '8*3'] 9 syntax [32] 2\n"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("eval('().__class__.__bases__')", SyntaxError),
        ("exec('import os')", ImportError),
        ("eval('open(\"/etc/hostname\")', {})", PermissionError),
        ("g = {}\neval('1', g)\ng['__builtins__']", KeyError),
        ("g = {}\ndef grab():\n    return g['__builtins__']\ng['grab'] = grab\neval('grab()', g)", KeyError),
        ("class G(dict):\n    pass\neval('1', G())", TypeError),
        ("eval(1)", TypeError),
        # a guard handed in through a namespace is not the one the text gets
        (
            "import fractions\neval('fractions.Fraction(1, 2)._numerator', {'fractions': fractions},"
            " {'_getattr_': lambda o, n: 'forged'})",
            AttributeError,
        ),
        ("exec('_getattr_ = 1')", SyntaxError),
    ],
)
def test_eval_and_exec_give_no_way_around_the_guards(code, error):
    with pytest.raises(error):
        run(code)


@pytest.mark.parametrize(
    "code",
    [
        "().__class__.__bases__",
        "x = 1\nx.__dict__",
        "_getattr_ = getattr",
        "def f(_getattr_=1, /):\n    pass",
        "__name__ = 'x'",
        "().__class__ = int",
        "import mpmath\nclass E:\n    pass\nmpmath.mp.__class__ = E",
        "x = (i for i in [1])\nx.gi_frame",
        "_aug1_ = 1",
        "__builtins__",
        "def __class__():\n    pass",
        "class A:\n    __dict__ = 1",
        "match 1:\n    case object(__class__=c):\n        pass",
        "from . import x",
    ],
)
def test_escapes_are_refused_at_compile_time(code):
    with pytest.raises(CompileError):
        compile_code(code)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("int.__class__('X', (), {})", TypeError),
        ("'{0.__class__.__bases__}'.format(1)", AttributeError),
        ("'{x.__init__.__globals__}'.format_map({'x': 1})", AttributeError),
        ("import numpy as np\nnp.ctypeslib", AttributeError),
        ("import math\nmath.pi = 3", TypeError),
        ("import sympy\nsympy.test", AttributeError),
        ("type(int)('X', (), {})", TypeError),
        ("open('/etc/hostname')", PermissionError),
    ],
)
def test_gadgets_are_refused_at_run_time(code, error):
    with pytest.raises(error):
        run(code)


def test_type_of_a_class_is_not_the_real_metaclass():
    _, printed = run("t = type(int)\nprint(t is type(str), type(3).__name__, isinstance(int, t))")
    assert printed == "True int True\n"
