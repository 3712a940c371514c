"""Analytic test objectives shared by the optimizer reference scripts.

Every formula is written operation by operation as in tests/optim_common/mod.rs (plain float arithmetic, summed
left to right), so that Python and Rust produce bitwise-identical costs and gradients.
"""

import struct


def bits(v):
    """The IEEE-754 bit pattern of a float, as an int (exact through JSON)."""
    return struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def unbits(b):
    return struct.unpack("<d", struct.pack("<Q", int(b)))[0]


def rosenbrock(x):
    """f = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2 and its gradient."""
    n = len(x)
    f = 0.0
    g = [0.0] * n
    for i in range(n - 1):
        t = x[i + 1] - x[i] * x[i]
        s = 1.0 - x[i]
        f = f + (100.0 * (t * t) + s * s)
        g[i] = g[i] + (-400.0 * x[i] * t - 2.0 * s)
        g[i + 1] = g[i + 1] + 200.0 * t
    return f, g


def quadratic(x, a, c):
    """f = sum_i c[i] (x[i] - a[i])^2 and its gradient."""
    f = 0.0
    g = []
    for xi, ai, ci in zip(x, a, c):
        d = xi - ai
        f = f + ci * (d * d)
        g.append(2.0 * ci * d)
    return f, g


def make(spec):
    """The objective `x -> (f, g)` named by spec["function"] (inputs as bit patterns)."""
    name = spec["function"]
    if name == "rosenbrock":
        return rosenbrock
    if name == "quadratic":
        a = [unbits(v) for v in spec["a"]]
        c = [unbits(v) for v in spec["c"]]
        return lambda x: quadratic(x, a, c)
    raise ValueError(f"unknown function {name!r}")


def bounds(spec):
    """(lower, upper) lists with None where unbounded (bit patterns of +-inf map to None)."""
    lo = [unbits(v) for v in spec["lower"]]
    hi = [unbits(v) for v in spec["upper"]]
    return [None if v == float("-inf") else v for v in lo], [None if v == float("inf") else v for v in hi]
