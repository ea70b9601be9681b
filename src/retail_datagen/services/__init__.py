"""Services: what the CLI and the API both do, written once — generation windows, continuing in
the stored output format, clearing a data folder, finding a table by name.

The layer above engine, storage, streaming and validation, and below ``cli`` and ``api``: a
command or a route parses its input, calls a service and renders the result.
"""
