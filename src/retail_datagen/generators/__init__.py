"""Generators: pure functions from configuration (and earlier tables) to Arrow tables.

- ``dims/``: one module per dimension; ``master_generator`` is the recipe that builds them all
  (``build_dimensions``) and saves them (``MasterDataGenerator``).
- ``facts/``: one module per fact family; ``fact_generator`` is the recipe over them.
- ``generation_state``: where a later run continues.
"""
