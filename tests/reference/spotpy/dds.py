"""Runs SPOTPY 1.6.7's DDS and logs every evaluated point, for `tests/spotpy_dds.rs`.

Reads a JSON request on stdin, `{"cases": [{"function", "bounds": [[lo, hi], ...], "r", "repetitions", "trials",
"seed", "x_initial": null | [bits]}]}`, and prints `{"cases": [{"points": [[bits]], "values": [bits],
"trials": [{"x": [bits], "value": bits}]}]}`: every point SPOTPY evaluated, in order, with the minimised value
f(x) (SPOTPY maximises, so its objective returns -f), and the best of each trial. Floats travel as IEEE-754 bit
patterns. SPOTPY's own messages go to stderr.
"""

import contextlib
import json
import sys

import numpy as np
import spotpy

# the bit-pattern codec and the test functions are those of methods.py (same folder)
from methods import FUNCTIONS, bits, unbits


def make_setup(function, bounds, log):
    """A SPOTPY setup whose parameters are uniform on exactly `bounds` (min/maxbound given, not sampled)."""
    attrs = {}
    for i, (lo, hi) in enumerate(bounds):
        name = f"x{i}"
        attrs[name] = spotpy.parameter.Uniform(name, low=lo, high=hi, minbound=lo, maxbound=hi)

    def simulation(self, x):
        point = [float(v) for v in x]
        value = function(point)
        log.append((point, value))
        return [value]

    def evaluation(self):
        return [0.0]

    def objectivefunction(self, simulation, evaluation, params=None):
        return -simulation[0]

    attrs.update(simulation=simulation, evaluation=evaluation, objectivefunction=objectivefunction)
    return type("Setup", (), attrs)()


def run(case):
    log = []
    bounds = [(unbits(lo), unbits(hi)) for lo, hi in case["bounds"]]
    setup = make_setup(FUNCTIONS[case["function"]], bounds, log)
    x0 = case.get("x_initial")
    x_initial = np.array([unbits(b) for b in x0]) if x0 else np.array([])
    with contextlib.redirect_stdout(sys.stderr):
        sampler = spotpy.algorithms.dds(
            setup, dbname="dds_reference", dbformat="ram", save_sim=False, random_state=case["seed"], r=case["r"]
        )
        trials = sampler.sample(case["repetitions"], trials=case["trials"], x_initial=x_initial)
    return {
        "points": [[bits(v) for v in p] for p, _ in log],
        "values": [bits(v) for _, v in log],
        "trials": [{"x": [bits(v) for v in t["sbest"]], "value": bits(-t["objfunc_val"])} for t in trials],
    }


def main():
    request = json.load(sys.stdin)
    json.dump({"cases": [run(case) for case in request["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
