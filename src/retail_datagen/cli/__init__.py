"""The ``retail-datagen`` command line (see README "CLI reference").

One module per command group — :mod:`.generate`, :mod:`.data` (status, clear, export,
validate), :mod:`.maintenance` (compact, repair, digest), :mod:`.stream` (stream and dead
letters), :mod:`.disruptions`, :mod:`.serve` — over the shared options and error handling of
:mod:`.common`; :mod:`.root` registers them on the app. Each command is a thin shell over a
library or :mod:`retail_datagen.services` call.
"""

from retail_datagen.cli.root import app, main

__all__ = ["app", "main"]
