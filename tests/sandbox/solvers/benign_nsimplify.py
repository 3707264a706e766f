# expect: 1/3 1 + sqrt(2) pi/4
from sympy import nsimplify, pi, sqrt

print(nsimplify(0.3333333333333333), nsimplify(2.414213562373095, [sqrt(2)]), nsimplify(0.7853981633974483, [pi]))
