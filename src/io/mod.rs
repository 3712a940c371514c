//! Inputs: rasters, forcing, observed discharge, descriptors.
