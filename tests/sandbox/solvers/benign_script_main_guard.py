# expect: 42925 24: 8/(3-(8/3)) ledger 150
"""A script as a reasoning model writes one: postponed annotations, a class with name-mangled
private state, expressions built as text and evaluated, and a main guard."""

from __future__ import annotations

import itertools
from fractions import Fraction


class Ledger:
    def __init__(self) -> None:
        self.__entries: list[int] = []

    def __check(self, amount: int) -> int:
        if amount < 0:
            raise ValueError("negative")
        return amount

    def add(self, amount: int) -> Ledger:
        self.__entries.append(self.__check(amount))
        return self

    def total(self) -> int:
        return sum(self.__entries)


def make_24(numbers: list[int]) -> str | None:
    shapes = ["(({}{}{}){}{}){}{}", "({}{}({}{}{})){}{}", "{}{}(({}{}{}){}{})", "{}{}({}{}({}{}{}))"]
    for a, b, c, d in itertools.permutations(numbers):
        for x, y, z in itertools.product("+-*/", repeat=3):
            for shape in shapes:
                text = shape.format(a, x, b, y, c, z, d)
                try:
                    exact = text.replace("8", "Fraction(8)").replace("3", "Fraction(3)")
                    if eval(exact, {"Fraction": Fraction}) == 24:
                        return text
                except ZeroDivisionError:
                    continue
    return None


def main() -> None:
    squares = sum(eval(f"{i}**2") for i in range(1, 51))
    print(squares, "24:", make_24([3, 3, 8, 8]), "ledger", Ledger().add(100).add(50).total())


if __name__ == "__main__":
    main()
