# expect: step 1: 2 step 2: 4 step 3: 8 total 14
def report(i, value):
    print(f"step {i}: {value}", end=" ")


def run(n):
    total = 0
    value = 1
    for i in range(1, n + 1):
        value *= 2
        report(i, value)
        total += value
    print("total", total)
    return total


class Logger:
    def log(self, msg):
        print(msg)


run(3)
Logger().log("logged from a method")
