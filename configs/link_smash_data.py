#!/usr/bin/env python3
"""Link smash's datasets (Cance, Lez, France flow directions) from the installed `hydro-smash` package to
`configs/smash-data`, where the example configurations `lez_hybrid.toml` and `cance_regionalization.toml`
read them. The data is GPL: it stays where pip put it, never copied here.

    ~/.cache/hydrograd/venv/bin/python configs/link_smash_data.py    # the venv of `bash tests/run_all.sh`
    cargo run --release -- train configs/lez_hybrid.toml --out out/lez-hybrid
"""

import os

from smash.factory.dataset.dataset import DATASET_PATH

link = os.path.join(os.path.dirname(os.path.realpath(__file__)), "smash-data")
target = os.path.realpath(DATASET_PATH)
if os.path.islink(link) and os.readlink(link) != target:
    os.remove(link)
if not os.path.islink(link):
    os.symlink(target, link)
print(f"{link} -> {target}")
