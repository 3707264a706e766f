# expect: 6 5 Point2D(2, 3/2)
from sympy import Point, Segment, Triangle

t = Triangle(Point(0, 0), Point(4, 0), Point(0, 3))
print(abs(t.area), Segment(Point(4, 0), Point(0, 3)).length, Segment(Point(4, 0), Point(0, 3)).midpoint)
