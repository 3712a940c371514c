#!/usr/bin/env python3
"""Print a hydrograd configuration for smash's Cance dataset, read from the installed `hydro-smash`
package (GPL data: it is read where pip put it, never copied here).

    .venv/bin/python configs/cance.py > cance.toml          # the venv of `bash tests/run_all.sh`
    cargo run --release -- train cance.toml --out out/cance
"""

import os

from smash.factory.dataset.dataset import DATASET_PATH

d = os.path.join(os.path.realpath(DATASET_PATH), "Cance")
print(f'''# Cance (Ardèche, 383 km² of 1-km cells, hourly, autumn 2014), smash's dataset and defaults
[setup]
hydrological_module = "gr4"
routing_module = "lr"
dt = 3600
start_time = "2014-09-15 00:00"
end_time = "2014-11-14 00:00"
prcp_directory = "{d}/prcp"
prcp_conversion_factor = 0.1
pet_directory = "{d}/pet"
daily_interannual_pet = true
qobs_directory = "{d}/qobs"
descriptor_directory = "{d}/descriptor"
descriptor_name = ["slope", "dd"]

[mesh]
flwdir = "{os.path.dirname(d)}/France_flwdir.tif"
gauge_attributes = "{d}/gauge_attributes.csv"

[[train.stage]]          # smash: model.optimize(mapping="uniform")
mapping = "uniform"
optimizer = "sbs"

[[train.stage]]          # smash: model.optimize(mapping="distributed"), from the uniform result
mapping = "distributed"
optimizer = "lbfgsb"''')
