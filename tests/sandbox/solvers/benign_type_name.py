# expect: int float list Fraction Rational Node True
from fractions import Fraction

import sympy


class Node:
    pass


values = [3, 2.5, [1], Fraction(1, 2), sympy.Rational(1, 3), Node()]
print(*(type(v).__name__ for v in values), isinstance(values[0], int))
print(Node.__name__, Node().__class__.__name__, Node.__qualname__)
