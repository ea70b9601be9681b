"""``python -m retail_datagen`` and the ``retail-datagen`` console script.

The command line imports a lot (numpy, pyarrow, DuckDB, pydantic, typer) before any command
runs; Ctrl-C during that second or two ends the program with one line and exit code 130, never a
traceback. So this module imports nothing heavy itself and loads the CLI inside the guard.
"""

import sys
from types import ModuleType

EXIT_INTERRUPTED = 130


def load_cli() -> ModuleType:
    """``retail_datagen.cli``; an interrupt while importing it exits 130 with one line."""
    try:
        from retail_datagen import cli
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    return cli


def main() -> None:
    """Run the command line (console-script entry point)."""
    load_cli().main()


if __name__ == "__main__":
    main()
