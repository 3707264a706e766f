"""Word problems whose answer a few lines of Python decide, with exact answers, for the self-taught loop.

Two families:

- `broad` (the default of `start-tui train problems`): over 30 kinds across arithmetic, number
  theory, counting, sequences and series, probability as exact fractions, bases and digits,
  divisibility, primes, polynomials, small linear systems, calendar and time, rates and percentages
  in words, and geometry with numbers. Every kind has several phrasings, written the way people ask.
  The held-out split differs from the training split in phrasing (each kind's last phrasing is only
  ever held out), in numbers (a draw belongs to one split by a hash of its numbers) and, optionally,
  in kind (`holdout_kinds` whole kinds never trained on), so it measures generalization and not recall.
- `micro`: the six kinds of the micro reproduction (`training/recipes/micro-cpu.toml`), one phrasing each.

Everything is seeded: the same arguments give the same rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

Answer = int | Fraction
Fields = dict[str, object]


def _primes_below(n: int) -> list[int]:
    sieve = bytearray([1]) * n
    sieve[:2] = b"\x00\x00"
    for i in range(2, int(n**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(sieve[i * i :: i]))
    return [i for i in range(n) if sieve[i]]


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _largest_prime_factor(n: int) -> int:
    largest, d = 1, 2
    while d * d <= n:
        while n % d == 0:
            largest, n = d, n // d
        d += 1
    return max(largest, n) if n > 1 else largest


def _totient(n: int) -> int:
    return sum(1 for k in range(1, n + 1) if math.gcd(k, n) == 1)


def _to_base(n: int, b: int) -> str:
    digits = ""
    while n:
        digits = "0123456789"[n % b] + digits
        n //= b
    return digits or "0"


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def _dice_ways(dice: int, total: int) -> int:
    ways = {0: 1}
    for _ in range(dice):
        nxt: dict[int, int] = {}
        for s, w in ways.items():
            for face in range(1, 7):
                nxt[s + face] = nxt.get(s + face, 0) + w
        ways = nxt
    return ways.get(total, 0)


# -- the kinds: each draws its numbers and gives the fields its phrasings use, and the answer ---------


def _product(r: random.Random) -> tuple[Fields, Answer]:
    a, b = r.randint(1000, 99999), r.randint(1000, 99999)
    return {"a": a, "b": b}, a * b


def _sum_of_squares(r: random.Random) -> tuple[Fields, Answer]:
    lo = r.randint(1, 40)
    hi = r.randint(lo + 20, lo + 400)
    return {"lo": lo, "hi": hi}, sum(i * i for i in range(lo, hi + 1))


def _power_sum(r: random.Random) -> tuple[Fields, Answer]:
    n, k = r.randint(20, 200), r.randint(3, 6)
    return {"n": n, "k": k}, sum(i**k for i in range(1, n + 1))


def _multiples_sum(r: random.Random) -> tuple[Fields, Answer]:
    d, n = r.randint(3, 19), r.randint(200, 5000)
    return {"d": d, "n": n}, sum(range(d, n + 1, d))


def _mod_power(r: random.Random) -> tuple[Fields, Answer]:
    a, b, m = r.randint(2, 999), r.randint(100, 10**6), r.randint(7, 10**4)
    return {"a": a, "b": b, "m": m}, pow(a, b, m)


def _gcd(r: random.Random) -> tuple[Fields, Answer]:
    g = r.randint(2, 300)
    a, b = g * r.randint(10, 900), g * r.randint(10, 900)
    return {"a": a, "b": b}, math.gcd(a, b)


def _lcm(r: random.Random) -> tuple[Fields, Answer]:
    a, b, c = r.randint(6, 120), r.randint(6, 120), r.randint(6, 120)
    return {"a": a, "b": b, "c": c}, math.lcm(a, b, c)


def _prime_count(r: random.Random) -> tuple[Fields, Answer]:
    lo = r.randint(100, 20000)
    hi = lo + r.randint(500, 20000)
    return {"lo": lo, "hi": hi}, sum(1 for p in _primes_below(hi + 1) if p >= lo)


def _nth_prime(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(100, 3000)
    return {"n": n, "nth": _ordinal(n)}, _primes_below(30000)[n - 1]


def _largest_prime_factor_kind(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(10**5, 10**8)
    return {"n": n}, _largest_prime_factor(n)


def _divisor_count(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(1000, 2 * 10**6)
    return {"n": n}, len(_divisors(n))


def _divisor_sum(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(1000, 10**6)
    return {"n": n}, sum(_divisors(n))


def _totient_kind(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(100, 20000)
    return {"n": n}, _totient(n)


def _inclusion_exclusion(r: random.Random) -> tuple[Fields, Answer]:
    a, b = r.sample(range(3, 30), 2)
    n = r.randint(500, 100000)
    return {"a": a, "b": b, "n": n}, n // a + n // b - n // math.lcm(a, b)


def _committee(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(15, 60)
    k = r.randint(3, n // 2)
    return {"n": n, "k": k}, math.comb(n, k)


def _arrangements(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(8, 25)
    k = r.randint(3, 7)
    return {"n": n, "k": k}, math.perm(n, k)


def _word_arrangements(r: random.Random) -> tuple[Fields, Answer]:
    word = r.choice(
        ["MISSISSIPPI", "BANANA", "STATISTICS", "COMMITTEE", "BOOKKEEPER", "PEPPER", "ASSESSMENT", "TENNESSEE",
         "MATHEMATICS", "REFERENCE", "PARALLEL", "SUCCESS", "ADDRESSEE", "BALLOON", "COFFEE"]
    )  # fmt: skip
    ways = math.factorial(len(word))
    for letter in set(word):
        ways //= math.factorial(word.count(letter))
    return {"word": word}, ways


def _fibonacci(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(30, 150)
    return {"n": n, "nth": _ordinal(n)}, _fib(n)


def _arithmetic_series(r: random.Random) -> tuple[Fields, Answer]:
    a, d, n = r.randint(-50, 200), r.randint(2, 40), r.randint(30, 400)
    return {"a": a, "d": d, "n": n, "second": a + d, "third": a + 2 * d}, n * (2 * a + (n - 1) * d) // 2


def _geometric_series(r: random.Random) -> tuple[Fields, Answer]:
    a, q, n = r.randint(1, 9), r.randint(2, 5), r.randint(8, 25)
    return {"a": a, "q": q, "n": n, "second": a * q, "third": a * q * q}, sum(a * q**i for i in range(n))


def _recurrence(r: random.Random) -> tuple[Fields, Answer]:
    x0, p, q, n = r.randint(1, 9), r.randint(2, 4), r.randint(1, 9), r.randint(12, 30)
    x = x0
    for _ in range(n):
        x = p * x + q
    return {"x0": x0, "p": p, "q": q, "n": n}, x


def _collatz(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(100, 100000)
    return {"n": n}, _collatz_steps(n)


def _dice(r: random.Random) -> tuple[Fields, Answer]:
    dice = r.randint(3, 6)
    total = r.randint(dice + 2, 6 * dice - 2)
    return {"dice": dice, "total": total}, Fraction(_dice_ways(dice, total), 6**dice)


def _coins(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(8, 30)
    k = r.randint(2, n - 2)
    return {"n": n, "k": k}, Fraction(math.comb(n, k), 2**n)


def _urn(r: random.Random) -> tuple[Fields, Answer]:
    red, blue, draw = r.randint(3, 15), r.randint(3, 15), r.randint(2, 4)
    k = r.randint(1, min(draw, red))
    if draw - k > blue:
        k = draw - blue
    p = Fraction(math.comb(red, k) * math.comb(blue, draw - k), math.comb(red + blue, draw))
    return {"red": red, "blue": blue, "draw": draw, "k": k}, p


def _base_digits(r: random.Random) -> tuple[Fields, Answer]:
    n, b = r.randint(1000, 10**7), r.randint(2, 9)
    return {"n": n, "b": b}, sum(int(c) for c in _to_base(n, b))


def _binary_ones(r: random.Random) -> tuple[Fields, Answer]:
    lo = r.randint(1, 500)
    hi = lo + r.randint(100, 3000)
    return {"lo": lo, "hi": hi}, sum(bin(i).count("1") for i in range(lo, hi + 1))


def _digit_sum_power(r: random.Random) -> tuple[Fields, Answer]:
    a, b = r.randint(2, 99), r.randint(20, 200)
    return {"a": a, "b": b}, sum(int(d) for d in str(a**b))


def _trailing_zeros(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(100, 100000)
    z, p = 0, 5
    while p <= n:
        z += n // p
        p *= 5
    return {"n": n}, z


def _palindromes(r: random.Random) -> tuple[Fields, Answer]:
    lo = r.randint(10, 5000)
    hi = lo + r.randint(1000, 90000)
    return {"lo": lo, "hi": hi}, sum(1 for i in range(lo, hi + 1) if str(i) == str(i)[::-1])


def _poly_eval(r: random.Random) -> tuple[Fields, Answer]:
    c = [r.randint(-9, 9) or 1 for _ in range(4)]
    x = r.randint(-12, 15)
    poly = _poly_text(c)
    return {"poly": poly, "x": x}, sum(ci * x ** (3 - i) for i, ci in enumerate(c))


def _roots_power_sum(r: random.Random) -> tuple[Fields, Answer]:
    roots = [r.randint(-12, 12) for _ in range(3)]
    # (x - r1)(x - r2)(x - r3) = x^3 - e1 x^2 + e2 x - e3
    e1 = sum(roots)
    e2 = roots[0] * roots[1] + roots[0] * roots[2] + roots[1] * roots[2]
    e3 = roots[0] * roots[1] * roots[2]
    return {"poly": _poly_text([1, -e1, e2, -e3])}, sum(x * x for x in roots)


def _linear_system(r: random.Random) -> tuple[Fields, Answer]:
    while True:
        a, b, c, d = (r.randint(-9, 9) for _ in range(4))
        if a * d - b * c != 0 and 0 not in (a, b, c, d):
            break
    x, y = r.randint(-30, 30), r.randint(-30, 30)
    return {"e1": _lin(a, b, a * x + b * y), "e2": _lin(c, d, c * x + d * y)}, x * y


def _days_between(r: random.Random) -> tuple[Fields, Answer]:
    start = dt.date(r.randint(1900, 2030), r.randint(1, 12), r.randint(1, 28))
    end = start + dt.timedelta(days=r.randint(40, 20000))
    return {"start": _date_text(start), "end": _date_text(end)}, (end - start).days


def _weekday_count(r: random.Random) -> tuple[Fields, Answer]:
    year, wd = r.randint(1950, 2050), r.randint(0, 6)
    name = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][wd]
    month = r.randint(1, 12)
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    days = [first + dt.timedelta(days=i) for i in range((nxt - first).days)]
    return {"year": year, "weekday": name, "month": first.strftime("%B")}, sum(1 for d in days if d.weekday() == wd)


def _minutes_between(r: random.Random) -> tuple[Fields, Answer]:
    h1, m1 = r.randint(0, 23), r.randint(0, 59)
    span = r.randint(30, 60 * 40)
    end = h1 * 60 + m1 + span
    days = end // (24 * 60)
    h2, m2 = divmod(end % (24 * 60), 60)
    later = "the next day" if days == 1 else ("the same day" if days == 0 else f"{days} days later")
    return {"t1": f"{h1:02d}:{m1:02d}", "t2": f"{h2:02d}:{m2:02d}", "later": later}, span


def _pipes(r: random.Random) -> tuple[Fields, Answer]:
    a, b = r.sample(range(2, 30), 2)
    return {"a": a, "b": b}, Fraction(a * b, a + b)


def _percent_change(r: random.Random) -> tuple[Fields, Answer]:
    price, up, down = r.randint(20, 900), r.randint(5, 60), r.randint(5, 60)
    return {"price": price, "up": up, "down": down}, Fraction(price) * (100 + up) * (100 - down) / 10000


def _work_rate(r: random.Random) -> tuple[Fields, Answer]:
    workers, days, more = r.randint(3, 20), r.randint(4, 40), r.randint(1, 15)
    return {"workers": workers, "days": days, "total": workers + more}, Fraction(workers * days, workers + more)


def _triangle_area(r: random.Random) -> tuple[Fields, Answer]:
    while True:
        pts = [(r.randint(-20, 20), r.randint(-20, 20)) for _ in range(3)]
        (x1, y1), (x2, y2), (x3, y3) = pts
        twice = abs(x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2))
        if twice:
            break
    return {"p": pts[0], "q": pts[1], "s": pts[2]}, Fraction(twice, 2)


def _lattice_points(r: random.Random) -> tuple[Fields, Answer]:
    x1, y1 = r.randint(-50, 50), r.randint(-50, 50)
    x2, y2 = x1 + r.randint(-300, 300), y1 + r.randint(-300, 300)
    return {"p": (x1, y1), "q": (x2, y2)}, math.gcd(abs(x2 - x1), abs(y2 - y1)) + 1


def _right_triangles(r: random.Random) -> tuple[Fields, Answer]:
    n = r.randint(30, 250)
    count = sum(1 for a in range(1, n + 1) for b in range(a, n + 1) if math.isqrt(a * a + b * b) ** 2 == a * a + b * b
                and math.isqrt(a * a + b * b) <= n)  # fmt: skip
    return {"n": n}, count


# -- phrasing helpers ----------------------------------------------------------------------------


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _poly_text(c: list[int]) -> str:
    terms = []
    for i, ci in enumerate(c):
        power = len(c) - 1 - i
        if ci == 0:
            continue
        mag = abs(ci)
        body = ("" if mag == 1 and power else str(mag)) + ("x" if power else "") + (f"^{power}" if power > 1 else "")
        terms.append(("- " if ci < 0 else "+ ") + body)
    text = " ".join(terms) or "0"
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _lin(a: int, b: int, c: int) -> str:
    return f"{a}x {'-' if b < 0 else '+'} {abs(b)}y = {c}"


def _date_text(d: dt.date) -> str:
    return f"{d.strftime('%B')} {d.day}, {d.year}"


@dataclass(frozen=True)
class Kind:
    name: str
    topic: str
    draw: Callable[[random.Random], tuple[Fields, Answer]]
    phrasings: tuple[str, ...]
    """Format strings over the drawn fields; the last one is held out."""


KINDS: tuple[Kind, ...] = (
    Kind("product", "arithmetic", _product, (
        "A warehouse has {a} boxes with {b} screws in each box. How many screws are there in total?",
        "What is {a} times {b}?",
        "Compute the product {a} x {b}.",
        "A printer makes {b} pages an hour. How many pages does it make in {a} hours?",
    )),
    Kind("sum_of_squares", "arithmetic", _sum_of_squares, (
        "What is the sum of the squares of the integers from {lo} to {hi}?",
        "Add up n^2 for every whole number n between {lo} and {hi}, inclusive. What do you get?",
        "Find {lo}^2 + ({lo}+1)^2 + ... + {hi}^2.",
    )),
    Kind("power_sum", "sequences", _power_sum, (
        "What is the sum of the {k}-th powers of the integers from 1 to {n}?",
        "Compute 1^{k} + 2^{k} + 3^{k} + ... + {n}^{k}.",
        "If you raise every integer from 1 through {n} to the power {k} and add the results, what is the total?",
    )),
    Kind("multiples_sum", "divisibility", _multiples_sum, (
        "What is the sum of all multiples of {d} that are at most {n}?",
        "Add together every positive number up to {n} that {d} divides evenly. What is the sum?",
        "Find the sum of the positive integers not exceeding {n} that are divisible by {d}.",
    )),
    Kind("mod_power", "number theory", _mod_power, (
        "What is the remainder when {a} to the power {b} is divided by {m}?",
        "Compute {a}^{b} mod {m}.",
        "Find the last value of {a}^{b} modulo {m}, that is, the remainder after dividing by {m}.",
    )),
    Kind("gcd", "number theory", _gcd, (
        "What is the greatest common divisor of {a} and {b}?",
        "Find gcd({a}, {b}).",
        "What is the largest whole number that divides both {a} and {b}?",
    )),
    Kind("lcm", "number theory", _lcm, (
        "What is the least common multiple of {a}, {b} and {c}?",
        "Three lights blink every {a}, {b} and {c} seconds. They blink together now. After how many seconds do they next blink together?",
        "Find the smallest positive integer divisible by {a}, by {b} and by {c}.",
    )),
    Kind("prime_count", "primes", _prime_count, (
        "How many prime numbers are there between {lo} and {hi}, inclusive?",
        "Count the primes p with {lo} <= p <= {hi}.",
        "How many of the integers from {lo} to {hi} are prime?",
    )),
    Kind("nth_prime", "primes", _nth_prime, (
        "What is the {nth} prime number?",
        "If the primes are listed 2, 3, 5, 7, 11, ..., which number is in position {n}?",
        "Find the {nth} smallest prime.",
    )),
    Kind("largest_prime_factor", "primes", _largest_prime_factor_kind, (
        "What is the largest prime factor of {n}?",
        "Factor {n} into primes. What is the biggest prime in the factorization?",
        "Find the greatest prime that divides {n}.",
    )),
    Kind("divisor_count", "divisibility", _divisor_count, (
        "How many positive divisors does {n} have?",
        "Count the positive integers that divide {n} exactly.",
        "What is the number of factors of {n}, counting 1 and {n} itself?",
    )),
    Kind("divisor_sum", "divisibility", _divisor_sum, (
        "What is the sum of all positive divisors of {n}?",
        "Add up every positive integer that divides {n}, including 1 and {n}. What is the total?",
        "Find sigma({n}), the sum of the divisors of {n}.",
    )),
    Kind("totient", "number theory", _totient_kind, (
        "How many integers from 1 to {n} share no common factor with {n} other than 1?",
        "Compute Euler's totient phi({n}).",
        "How many of the numbers 1, 2, ..., {n} are coprime to {n}?",
    )),
    Kind("inclusion_exclusion", "divisibility", _inclusion_exclusion, (
        "How many integers from 1 to {n} are divisible by {a} or by {b}?",
        "Among the first {n} positive integers, how many are multiples of {a}, of {b}, or of both?",
        "Count the numbers up to {n} that {a} divides or {b} divides.",
    )),
    Kind("committee", "counting", _committee, (
        "In how many ways can a committee of {k} people be chosen from {n} people?",
        "How many different groups of {k} can be picked from a class of {n} students?",
        "Compute the binomial coefficient C({n}, {k}).",
    )),
    Kind("arrangements", "counting", _arrangements, (
        "In how many ways can gold, silver and the other places down to place {k} be awarded among {n} runners?",
        "How many ordered lists of {k} different items can be made from {n} items?",
        "A club of {n} members elects {k} distinct officers (president, vice-president, ...). How many outcomes are possible?",
    )),
    Kind("word_arrangements", "counting", _word_arrangements, (
        "How many distinct arrangements of the letters of the word {word} are there?",
        "In how many different orders can the letters of {word} be written, counting identical letters as the same?",
        "How many different strings can be formed by rearranging all the letters of {word}?",
    )),
    Kind("fibonacci", "sequences", _fibonacci, (
        "The Fibonacci numbers start 0, 1, 1, 2, 3, 5, ... with F(0) = 0. What is F({n})?",
        "Each term is the sum of the two before it, starting from F(0) = 0 and F(1) = 1. Find F({n}).",
        "With F(1) = 1, F(2) = 1 and F(n) = F(n-1) + F(n-2), what is the {nth} Fibonacci number F({n})?",
    )),
    Kind("arithmetic_series", "sequences", _arithmetic_series, (
        "An arithmetic sequence begins {a}, {second}, {third}, ... What is the sum of its first {n} terms?",
        "Add up the first {n} terms of the sequence {a}, {second}, {third}, ... where each term grows by the same amount.",
        "A sequence starts at {a} and goes up by {d} each time. What is the total of its first {n} terms?",
    )),
    Kind("geometric_series", "sequences", _geometric_series, (
        "A geometric sequence begins {a}, {second}, {third}, ... What is the sum of its first {n} terms?",
        "A chain letter: {a} people get it on day 1 and each day {q} times as many get it as the day before. How many letters are sent in {n} days?",
        "Find the sum {a} + {a}*{q} + {a}*{q}^2 + ... + {a}*{q}^({n}-1).",
    )),
    Kind("recurrence", "sequences", _recurrence, (
        "A sequence has x(0) = {x0} and x(n+1) = {p}*x(n) + {q}. What is x({n})?",
        "Start with {x0}; at each step multiply by {p} and add {q}. What is the number after {n} steps?",
        "Let a_0 = {x0} and a_(k+1) = {p} a_k + {q}. Compute a_{n}.",
    )),
    Kind("collatz", "sequences", _collatz, (
        "Starting from {n}, repeatedly halve the number if it is even and replace it by 3n + 1 if it is odd. How many steps does it take to reach 1?",
        "How many steps does the Collatz process need to bring {n} down to 1?",
        "Apply n -> n/2 (n even) or n -> 3n + 1 (n odd) to {n} until you get 1. How many moves is that?",
    )),
    Kind("dice", "probability", _dice, (
        "{dice} fair six-sided dice are rolled. What is the probability that the total is {total}? Give an exact fraction.",
        "If you throw {dice} ordinary dice, what is the exact chance that the numbers add up to {total}?",
        "What is the probability, as a reduced fraction, that the sum of {dice} dice is exactly {total}?",
    )),
    Kind("coins", "probability", _coins, (
        "A fair coin is flipped {n} times. What is the probability of exactly {k} heads? Give an exact fraction.",
        "What is the exact chance of getting {k} heads and {n}-{k} tails in {n} tosses of a fair coin?",
        "Flip a fair coin {n} times. As a reduced fraction, how likely is it that heads comes up exactly {k} times?",
    )),
    Kind("urn", "probability", _urn, (
        "A bag holds {red} red and {blue} blue marbles. {draw} are drawn at random without replacement. What is the probability that exactly {k} are red? Give an exact fraction.",
        "From an urn with {red} red balls and {blue} blue balls you take {draw} at once. What is the exact chance that {k} of them are red?",
        "There are {red} red and {blue} blue cards; {draw} cards are dealt. As a fraction, what is the probability of exactly {k} red cards?",
    )),
    Kind("base_digits", "bases and digits", _base_digits, (
        "Write {n} in base {b}. What is the sum of its digits?",
        "What is the digit sum of {n} when it is expressed in base {b}?",
        "Convert {n} to base {b} and add up the digits. What do you get?",
    )),
    Kind("binary_ones", "bases and digits", _binary_ones, (
        "How many 1s appear in total in the binary representations of the integers from {lo} to {hi}?",
        "Write every number from {lo} to {hi} in binary. How many ones do you write altogether?",
        "What is the total number of set bits over all integers between {lo} and {hi}, inclusive?",
    )),
    Kind("digit_sum_power", "bases and digits", _digit_sum_power, (
        "What is the sum of the digits of {a} to the power {b}?",
        "Compute {a}^{b} and add up its decimal digits. What is the result?",
        "Find the digit sum of the number {a}^{b}.",
    )),
    Kind("trailing_zeros", "bases and digits", _trailing_zeros, (
        "How many zeros are at the end of {n}! (the factorial of {n})?",
        "When {n} factorial is written out in full, how many trailing zeros does it have?",
        "Count the zeros at the end of the product 1 x 2 x 3 x ... x {n}.",
    )),
    Kind("palindromes", "bases and digits", _palindromes, (
        "How many palindromic numbers are there from {lo} to {hi}, inclusive?",
        "How many integers between {lo} and {hi} read the same forwards and backwards?",
        "Count the palindromes n with {lo} <= n <= {hi}.",
    )),
    Kind("poly_eval", "polynomials", _poly_eval, (
        "What is the value of p(x) = {poly} at x = {x}?",
        "Evaluate {poly} when x = {x}.",
        "Let f(x) = {poly}. Find f({x}).",
    )),
    Kind("roots_power_sum", "polynomials", _roots_power_sum, (
        "What is the sum of the squares of the roots of {poly} = 0?",
        "The cubic {poly} has three roots. Add up their squares. What is the sum?",
        "If r, s and t are the roots of {poly}, what is r^2 + s^2 + t^2?",
    )),
    Kind("linear_system", "linear systems", _linear_system, (
        "Solve the system {e1} and {e2}. What is x times y?",
        "Two numbers x and y satisfy {e1} and {e2}. What is their product xy?",
        "Given {e1} and {e2}, find the value of x*y.",
    )),
    Kind("days_between", "calendar and time", _days_between, (
        "How many days are there from {start} to {end}?",
        "If today is {start}, how many days is it until {end}?",
        "Count the days between {start} and {end} (the first day not included, the last one included).",
    )),
    Kind("weekday_count", "calendar and time", _weekday_count, (
        "How many {weekday}s are there in {month} {year}?",
        "In the month of {month} {year}, how many days fall on a {weekday}?",
        "Count the {weekday}s in {month} of the year {year}.",
    )),
    Kind("minutes_between", "calendar and time", _minutes_between, (
        "A train leaves at {t1} and arrives at {t2} {later}. How many minutes is the trip?",
        "How many minutes pass from {t1} to {t2} {later}?",
        "A shift starts at {t1} and ends at {t2} {later}. How long is it, in minutes?",
    )),
    Kind("pipes", "rates and percentages", _pipes, (
        "One pipe fills a tank in {a} hours and another fills it in {b} hours. How many hours do they take together? Give an exact fraction.",
        "Alice can paint a fence in {a} hours and Bob in {b} hours. Working together, how long does it take them, as an exact fraction of hours?",
        "Two hoses fill a pool alone in {a} and {b} hours. Running both, how many hours does filling take (exact fraction)?",
    )),
    Kind("percent_change", "rates and percentages", _percent_change, (
        "A jacket costs ${price}. Its price goes up by {up}% and then down by {down}%. What is the new price, exactly?",
        "A price of {price} dollars is raised {up} percent and the result is then cut by {down} percent. What is the final price?",
        "After a {up}% increase followed by a {down}% decrease, what does an item that cost ${price} cost now?",
    )),
    Kind("work_rate", "rates and percentages", _work_rate, (
        "{workers} workers finish a job in {days} days. How many days would {total} workers take at the same rate? Give an exact fraction.",
        "A job takes {days} days for a crew of {workers}. If the crew grows to {total} people working equally fast, how many days does it take?",
        "It takes {workers} machines {days} days to do an order. How long would {total} machines take, as an exact number of days?",
    )),
    Kind("triangle_area", "geometry", _triangle_area, (
        "What is the area of the triangle with vertices {p}, {q} and {s}?",
        "Find the area of a triangle whose corners are at {p}, {q} and {s} in the plane.",
        "Points {p}, {q} and {s} form a triangle. How large is its area?",
    )),
    Kind("lattice_points", "geometry", _lattice_points, (
        "How many points with integer coordinates lie on the line segment from {p} to {q}, endpoints included?",
        "Count the lattice points on the segment joining {p} and {q}, including both ends.",
        "A straight path goes from {p} to {q}. At how many points with whole-number coordinates does it pass, counting the ends?",
    )),
    Kind("right_triangles", "geometry", _right_triangles, (
        "How many right triangles with integer side lengths have a hypotenuse of at most {n}? (Count each triangle once.)",
        "Count the Pythagorean triples (a, b, c) with a <= b and c <= {n}.",
        "How many triangles with whole-number sides a <= b < c and a^2 + b^2 = c^2 have c no larger than {n}?",
    )),
)  # fmt: skip
BY_NAME = {k.name: k for k in KINDS}


def format_answer(value: Answer) -> str:
    """An exact answer as text: an integer, or a reduced fraction `p/q`."""
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return str(value)


def _split_of(kind: str, fields: Fields, held_out_share: float) -> str:
    """A draw's split, from a hash of its kind and numbers: held-out numbers never appear in training."""
    digest = hashlib.sha256(json.dumps([kind, fields], sort_keys=True, default=str).encode()).digest()
    return "heldout" if int.from_bytes(digest[:4], "big") / 2**32 < held_out_share else "train"


def broad_problems(
    n: int,
    *,
    seed: int = 0,
    split: str = "train",
    holdout_kinds: tuple[str, ...] = (),
    held_out_share: float = 0.25,
) -> list[dict[str, str]]:
    """n problems of one split, the kinds in turn, as rows {id, problem, answer, kind, topic, phrasing}.

    Training rows use every phrasing of a kind but its last, and numbers whose hash falls in the
    training share; held-out rows use the last phrasing and held-out numbers. Kinds in
    `holdout_kinds` appear only in the held-out split (with every phrasing).
    """
    if split not in ("train", "heldout"):
        raise ValueError("split is 'train' or 'heldout'")
    unknown = sorted(set(holdout_kinds) - set(BY_NAME))
    if unknown:
        raise ValueError(f"unknown problem kinds: {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    kinds = [k for k in KINDS if split == "heldout" or k.name not in holdout_kinds]
    r = random.Random(f"{seed}:{split}")
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    i = misses = 0
    while len(rows) < n:
        if misses > 2 * len(kinds):
            raise ValueError(f"these kinds give only {len(rows)} distinct {split} problems with seed {seed}")
        kind = kinds[i % len(kinds)]
        i += 1
        if kind.name in holdout_kinds:
            phrasings = list(range(len(kind.phrasings)))
        else:
            phrasings = [len(kind.phrasings) - 1] if split == "heldout" else list(range(len(kind.phrasings) - 1))
        for _ in range(200):  # draws whose numbers belong to this split (and are new)
            fields, answer = kind.draw(r)
            if kind.name in holdout_kinds or _split_of(kind.name, fields, held_out_share) == split:
                which = r.choice(phrasings)
                text = kind.phrasings[which].format(**fields)
                if text not in seen:
                    break
        else:
            misses += 1
            continue
        misses = 0
        seen.add(text)
        rows.append({
            "id": f"{split}-{kind.name}-{len(rows)}", "problem": text, "answer": format_answer(answer),
            "kind": kind.name, "topic": kind.topic, "phrasing": str(which),
        })  # fmt: skip
    return rows


# -- the micro reproduction's six kinds, unchanged -----------------------------------------------


def _micro_product(r: random.Random) -> tuple[str, int]:
    a, b = r.randint(1000, 99999), r.randint(1000, 99999)
    return f"A warehouse has {a} boxes with {b} screws in each box. How many screws are there in total?", a * b


def _micro_power_sum(r: random.Random) -> tuple[str, int]:
    n, k = r.randint(20, 200), r.randint(2, 5)
    return f"What is the sum of the {k}-th powers of the integers from 1 to {n}?", sum(i**k for i in range(1, n + 1))


def _micro_prime_count(r: random.Random) -> tuple[str, int]:
    n = r.randint(1000, 50000)
    return f"How many prime numbers are less than {n}?", len(_primes_below(n))


def _micro_mod_power(r: random.Random) -> tuple[str, int]:
    a, b, m = r.randint(2, 999), r.randint(100, 10**6), r.randint(7, 10**4)
    return f"What is the remainder when {a} to the power {b} is divided by {m}?", pow(a, b, m)


def _micro_digit_sum(r: random.Random) -> tuple[str, int]:
    a, b = r.randint(2, 99), r.randint(20, 200)
    return f"What is the sum of the digits of {a} to the power {b}?", sum(int(d) for d in str(a**b))


def _micro_binomial(r: random.Random) -> tuple[str, int]:
    n = r.randint(20, 80)
    k = r.randint(2, n // 2)
    return f"In how many ways can a committee of {k} people be chosen from {n} people?", math.comb(n, k)


MICRO_KINDS: dict[str, Callable[[random.Random], tuple[str, int]]] = {
    "product": _micro_product,
    "power_sum": _micro_power_sum,
    "prime_count": _micro_prime_count,
    "mod_power": _micro_mod_power,
    "digit_sum": _micro_digit_sum,
    "binomial": _micro_binomial,
}


def generate_problems(n: int, seed: int = 0) -> list[dict[str, str]]:
    """The micro family: n problems, the six kinds in turn, as rows {id, problem, answer, kind}."""
    r = random.Random(seed)
    names = list(MICRO_KINDS)
    rows = []
    for i in range(n):
        kind = names[i % len(names)]
        text, answer = MICRO_KINDS[kind](r)
        rows.append({"id": f"{kind}-{i}", "problem": text, "answer": str(answer), "kind": kind})
    return rows


def write_problems(path: str | Path, n: int, seed: int = 0) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(row) + "\n" for row in generate_problems(n, seed)), encoding="utf-8")
    return p
