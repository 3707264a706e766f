# expect: same True 10
import random

random.seed(2024)
first = [random.randint(1, 100) for _ in range(5)]
random.seed(2024)
second = [random.randint(1, 100) for _ in range(5)]
deck = list(range(10))
random.shuffle(deck)
rng = random.Random(7)
sample = rng.sample(range(100), 10)
print("same" if first == second else "different", all(1 <= v <= 100 for v in first), len(set(sample)))
hits = sum(1 for _ in range(20000) if random.random() ** 2 + random.random() ** 2 <= 1)
print(round(4 * hits / 20000, 1))
