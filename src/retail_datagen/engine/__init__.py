"""Engine: how the units of a run (region x day) are generated and kept — local processes,
the carried state between days, the history of a data folder, and the drivers over them
(``fact_generator``, ``master_generator``, ``estimate``)."""
