"""Dimension generators, one module per table (SPEC §5), plus the data and helpers they share.

Tables: ``geographies``, ``distribution_centers``, ``stores``, ``trucks``, ``customers``,
``products``, ``dates``, ``inventory_snapshots``. Shared: ``profiles`` (shares, ranges, formats,
hours, segments, department mix), :mod:`retail_datagen.geo` (great-circle distances),
``addresses``, ``identifiers`` (unique random-looking codes), ``allocation`` (exact shares).

Each generator is a pure function of (config, dictionary tables, earlier dimensions) returning a
table normalised to its registry declaration; every draw comes from a keyed stream of
:mod:`retail_datagen.rng`, one domain per column family, so adding a column changes no other.
"""
