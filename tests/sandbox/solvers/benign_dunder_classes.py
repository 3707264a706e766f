# expect: Vec(4, 6) True [Vec(0, 1), Vec(1, 2), Vec(3, 4)] 2 5.0
import math


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __eq__(self, other):
        return isinstance(other, Vec) and (self.x, self.y) == (other.x, other.y)

    def __lt__(self, other):
        return (self.x, self.y) < (other.x, other.y)

    def __hash__(self):
        return hash((self.x, self.y))

    def __repr__(self):
        return f"Vec({self.x}, {self.y})"

    def __abs__(self):
        return math.hypot(self.x, self.y)

    def __iter__(self):
        yield self.x
        yield self.y

    def __len__(self):
        return 2


a, b = Vec(1, 2), Vec(3, 4)
print(a + b, Vec(1, 2) == a, sorted({b, a, Vec(0, 1), Vec(1, 2)}), len(a), abs(b))
