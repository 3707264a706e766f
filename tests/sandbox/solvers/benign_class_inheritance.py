# expect: Square(side=3) 9 True shape 2 12
class Shape:
    count = 0

    def __init__(self, name):
        self._name = name
        Shape.count += 1

    @property
    def name(self):
        return self._name

    def area(self):
        raise NotImplementedError

    @classmethod
    def made(cls):
        return cls.count

    @staticmethod
    def kind():
        return "shape"


class Square(Shape):
    def __init__(self, side):
        super().__init__("square")
        self.side = side

    def area(self):
        return self.side**2

    def __repr__(self):
        return f"Square(side={self.side})"


class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


sq = Square(3)
r = Rect(3, 4)
sq.side += 0
print(sq, sq.area(), isinstance(sq, Shape), Shape.kind(), Shape.made(), r.area())
