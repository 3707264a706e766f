# expect: 9 f(x) 1 16
import sympy
from sympy import Function, Integer, symbols


class f(Function):
    @classmethod
    def eval(cls, n):
        if isinstance(n, Integer):
            return n**2
        return None


class g(sympy.Function):
    nargs = 1

    @classmethod
    def eval(cls, n):
        if n.is_Number and n < 2:
            return Integer(1)
        return None


x = symbols("x")
print(f(3), f(x), g(0), f(x).subs(x, 4))
