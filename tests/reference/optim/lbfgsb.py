"""Run scipy's L-BFGS-B as smash calls it (optimize.py::_scipy_optimize) and print its iterates as JSON.

stdin: {"function", "x0", "lower", "upper" (bit patterns), "maxiter", "factr", "pgtol", "maxcor", "maxls", ...}
stdout: {"iterates": [[bits]], "costs": [bits], "x", "fun", "nit", "nfev", "message"}
"""

import json
import sys

import numpy as np
import scipy.optimize

from functions import bits, bounds, make, unbits

spec = json.load(sys.stdin)
fun = make(spec)
x0 = np.array([unbits(v) for v in spec["x0"]])
lower, upper = bounds(spec)
iterates, costs = [], []


def objective(x):
    f, g = fun([float(v) for v in x])
    return f, np.array(g)


def callback(intermediate_result):
    iterates.append([bits(v) for v in intermediate_result.x])
    costs.append(bits(intermediate_result.fun))


res = scipy.optimize.minimize(
    objective,
    x0,
    method="L-BFGS-B",
    jac=True,
    bounds=tuple(zip(lower, upper)),
    callback=callback,
    options={
        "maxiter": spec["maxiter"],
        "ftol": 2.22e-16 * spec["factr"],
        "gtol": spec["pgtol"],
        "maxcor": spec["maxcor"],
        "maxls": spec["maxls"],
    },
)
json.dump(
    {
        "iterates": iterates,
        "costs": costs,
        "x": [bits(v) for v in res.x],
        "fun": bits(res.fun),
        "nit": int(res.nit),
        "nfev": int(res.nfev),
        "message": str(res.message),
    },
    sys.stdout,
)
