"""scipy 1.17's Nelder-Mead on Rosenbrock, logging every evaluated point, for tests/scipy_nelder_mead.rs.

Reads a JSON request on stdin: {"cases": [{"x0": [bits], "lower": [bits], "upper": [bits], "adaptive": bool,
"maxiter": int|null, "maxfev": int|null}, ...]} and prints {"cases": [{"points": [[bits]], "values": [bits],
"nfev": int, "nit": int, "status": int, "message": str, "fun": bits, "x": [bits]}, ...]}. Floats cross the
process boundary as IEEE-754 bit patterns (ints), so nothing is lost in JSON.

The objective is hydrograd's `samplers::functions::rosenbrock`, written operation by operation in the same
order (`sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2`, summed left to right), so both sides compute the same
values bit for bit.
"""

import json
import struct
import sys
import warnings

from scipy.optimize import minimize


def bits(v):
    return struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def unbits(b):
    return struct.unpack("<d", struct.pack("<Q", int(b)))[0]


def rosenbrock(x):
    f = 0.0
    for i in range(len(x) - 1):
        t = x[i + 1] - x[i] * x[i]
        s = 1.0 - x[i]
        f = f + (100.0 * (t * t) + s * s)
    return f


def run(case):
    x0 = [unbits(b) for b in case["x0"]]
    bounds = list(zip([unbits(b) for b in case["lower"]], [unbits(b) for b in case["upper"]]))
    points, values = [], []

    def objective(x):
        x = [float(v) for v in x]
        f = rosenbrock(x)
        points.append([bits(v) for v in x])
        values.append(bits(f))
        return f

    options = {"adaptive": bool(case.get("adaptive", False))}
    for key in ("maxiter", "maxfev"):
        if case.get(key) is not None:
            options[key] = int(case[key])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(objective, x0, method="Nelder-Mead", bounds=bounds, options=options)
    return {
        "points": points,
        "values": values,
        "nfev": int(res.nfev),
        "nit": int(res.nit),
        "status": int(res.status),
        "message": str(res.message),
        "fun": bits(res.fun),
        "x": [bits(v) for v in res.x],
    }


def main():
    request = json.load(sys.stdin)
    json.dump({"cases": [run(case) for case in request["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
