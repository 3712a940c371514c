"""SPOTPY 1.6.7's objective functions and likelihoods, evaluated for tests/spotpy_objectives.rs.

stdin: {"cases": [{"name", "obs", "sim", "checks": [check, ...]}]}, floats as IEEE-754 bit patterns (u64).
A check is {"key", "module": "objectivefunctions" | "likelihoods" | "acf", "function": SPOTPY's name} plus,
optionally, "epsilon" (lognashsutcliffe), "part" (the index into a return_all tuple), "measerror" (bit patterns;
absent: SPOTPY's default 0.1*obs), "phi" (bits: the AR(1) coefficient to use).
stdout: {"<case name>": {"<key>": bits}}.

SPOTPY is called on numpy arrays and never draws random numbers here: the test passes measurement errors without
zeros and an explicit phi. Two NumPy 2 incompatibilities of spotpy.likelihoods are worked around, so that SPOTPY's
own code still computes every value (no formula is re-implemented here):
- `np.NAN` (removed in NumPy 2, raises AttributeError) is what SPOTPY returns for invalid input (|phi| >= 1,
  zero variances, a ratio above 1): the module's `np` is replaced by a proxy in which `NAN` is NaN;
- LikelihoodAR1WithC/NoC raise TypeError when phi is passed as params (`float()` of a 1-element array). Without
  params WithC takes phi from `TimeSeries.AR_1_Coeff(data)` and NoC from `np.random.uniform(-0.99, 0.99, 1)`:
  both are patched to return the requested phi, so SPOTPY's formulas run with it. The key "LikelihoodAR1WithC"
  with module "likelihoods" and no "phi" runs the unpatched default (phi = lag-1 autocorrelation of obs).
Where SPOTPY raises LikelihoodError (different lengths, empty data) the value is NaN, as in the Rust functions.
"""

import inspect
import json
import logging
import struct
import sys
import types
import warnings

import numpy as np
import spotpy.likelihoods as likelihoods
import spotpy.objectivefunctions as objectivefunctions


def to_float(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def to_bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


class PatchedNumpy:
    """numpy as spotpy.likelihoods sees it: `NAN` exists, and `random.uniform(-0.99, 0.99, 1)` returns `phi`."""

    NAN = np.nan

    def __init__(self):
        self.phi = None
        self.random = types.SimpleNamespace(uniform=self._uniform)

    def _uniform(self, low, high, size=None):
        if (low, high, size) != (-0.99, 0.99, 1) or self.phi is None:
            raise AssertionError(f"unexpected random draw uniform({low}, {high}, {size}) in spotpy.likelihoods")
        return self.phi

    def __getattr__(self, name):
        return getattr(np, name)


PATCHED = PatchedNumpy()
likelihoods.np = PATCHED
DEFAULT_AR_1_COEFF = likelihoods.TimeSeries.AR_1_Coeff


def objective(obs, sim, check):
    f = getattr(objectivefunctions, check["function"])
    if "epsilon" in check:
        return f(obs, sim, epsilon=to_float(check["epsilon"]))
    if "part" in check:
        value = f(obs, sim, return_all=True)
        # A length mismatch returns a single NaN even with return_all.
        return value[check["part"]] if isinstance(value, tuple) else value
    return f(obs, sim)


def likelihood(obs, sim, check):
    f = getattr(likelihoods, check["function"])
    kwargs = {}
    if "measerror" in check:
        assert "measerror" in inspect.signature(f).parameters, f"{check['function']} takes no measerror"
        kwargs["measerror"] = np.array([to_float(b) for b in check["measerror"]])
    phi = to_float(check["phi"]) if "phi" in check else None
    PATCHED.phi = phi
    if phi is not None:
        assert check["function"] in ("LikelihoodAR1WithC", "LikelihoodAR1NoC")
        likelihoods.TimeSeries.AR_1_Coeff = staticmethod(lambda data: phi)
    try:
        return f(obs, sim, **kwargs)
    except likelihoods.LikelihoodError:
        return np.nan
    finally:
        likelihoods.TimeSeries.AR_1_Coeff = DEFAULT_AR_1_COEFF
        PATCHED.phi = None


def main():
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    np.seterr(all="ignore")
    request = json.load(sys.stdin)
    out = {}
    for case in request["cases"]:
        obs = np.array([to_float(b) for b in case["obs"]])
        sim = np.array([to_float(b) for b in case["sim"]])
        values = {}
        for check in case["checks"]:
            module = check["module"]
            if module == "objectivefunctions":
                value = objective(obs, sim, check)
            elif module == "likelihoods":
                value = likelihood(obs, sim, check)
            elif module == "acf":
                value = likelihoods.TimeSeries.AR_1_Coeff(obs)
            else:
                raise ValueError(f"unknown module {module}")
            values[check["key"]] = to_bits(value)
        out[case["name"]] = values
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
