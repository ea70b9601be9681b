"""Generators: pure functions from configuration (and earlier tables) to Arrow tables.

- ``dims/``: one module per dimension; ``facts/``: one module per fact family.
- Nothing here reads or writes the data folder: the recipes that build and save (the drivers
  ``master_generator`` and ``fact_generator``, the run ``estimate``) live in ``engine/``, and
  ``generation_state`` in ``storage/state``. Their old paths here only re-export them.
"""
