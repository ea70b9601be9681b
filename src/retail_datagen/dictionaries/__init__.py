"""The dictionaries: CSV files of places, names, products, brands and tax rates that seed the
master data. ``data/`` holds the shipped set; :mod:`.loader` declares their formats and loads
them as validated Arrow tables."""
