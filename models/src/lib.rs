//! hydrograd-models
