# expect: RED 1 [<Color.RED: 1>, <Color.GREEN: 2>, <Color.BLUE: 3>] SQUARE 2
from enum import Enum, IntEnum, auto


class Color(Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Shape(IntEnum):
    CIRCLE = auto()
    SQUARE = auto()


print(Color.RED.name, Color.RED.value, list(Color), Shape(2).name, int(Shape.SQUARE))
