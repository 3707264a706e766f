# expect: 3 True 20 [0, 10, 20] 15 set attr ok
class Poly:
    def __init__(self, coeffs):
        self.coeffs = list(coeffs)

    def __len__(self):
        return len(self.coeffs)

    def __getitem__(self, i):
        return self.coeffs[i]

    def __setitem__(self, i, v):
        self.coeffs[i] = v

    def __contains__(self, v):
        return v in self.coeffs

    def __iter__(self):
        return iter(self.coeffs)

    def __call__(self, x):
        return sum(c * x**k for k, c in enumerate(self.coeffs))


p = Poly([0, 1, 2])
p[1] = 10
p[2] *= 10
print(len(p), 10 in p, p[2], list(p), p(1) - p(0) - 15, end=" ")
name = "label"
setattr(p, name, "set attr")
print(getattr(p, name), "ok" if hasattr(p, "coeffs") else "missing")
