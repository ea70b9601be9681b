"""Use cases shared by the command line and the web API, so each rule is written once:

* :mod:`.generation` — the window of a fact run (``start``/``end``/``days``), the output format
  it continues in, and its estimate;
* :mod:`.data_folder` — clearing what retail-datagen created in a data folder.

Services sit above storage, state, engine and generators and may import them; they never import
``retail_datagen.cli`` or ``retail_datagen.api``. A table is found by name with
:func:`retail_datagen.schema.get_table` and a typed date or time is parsed by
:mod:`retail_datagen.dates`: storage and the generators need those too, so they live lower down.
"""
