# expect: enter work exit 0.5 suppressed
from contextlib import contextmanager, suppress

events = []


@contextmanager
def tracked(name):
    events.append("enter")
    try:
        yield name
    finally:
        events.append("exit")


class Timer:
    def __enter__(self):
        self.elapsed = 0.5
        return self

    def __exit__(self, *exc):
        return False


with tracked("work") as label:
    events.append(label)
with Timer() as t:
    pass
with suppress(ZeroDivisionError):
    ratio = 1 / 0
print(" ".join(events), t.elapsed, "suppressed")
