# expect: caught: bad value 7 | cleanup | ValueError from KeyError | 0.0
class BadValue(Exception):
    def __init__(self, value):
        super().__init__(f"bad value {value}")
        self.value = value


parts = []
try:
    raise BadValue(7)
except BadValue as e:
    parts.append(f"caught: {e}")
finally:
    parts.append("cleanup")
try:
    try:
        {}["k"]
    except KeyError as e:
        raise ValueError("wrapped") from e
except ValueError as e:
    parts.append(f"{type(e).__name__} from {type(e.__cause__).__name__}")


def safe_div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        return 0.0


parts.append(str(safe_div(1, 0)))
print(" | ".join(parts))
