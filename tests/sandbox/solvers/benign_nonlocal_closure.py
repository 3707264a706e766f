# expect: 3 [1, 2, 3] 10
def make_counter():
    count = 0
    history = []

    def step():
        nonlocal count
        count += 1
        history.append(count)
        return count

    return step, history


step, hist = make_counter()
step()
step()
print(step(), hist, end=" ")

total = 0


def add(v):
    global total
    total += v


for v in range(5):
    add(v)
print(total)
