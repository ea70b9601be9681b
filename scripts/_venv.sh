# Shared by run.sh and test.sh: create .venv when missing and (re)install the package when
# pyproject.toml changed since the last install. Source it, then call: ensure_venv [EXTRAS]
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

_find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

ensure_venv() {
    local extras="${1:-}" spec="$ROOT" stamp checksum python
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(_find_python)"
        echo "creating $VENV with $python" >&2
        "$python" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    stamp="$VENV/.retail-datagen-installed${extras:+-$extras}"
    checksum="$(cksum < "$ROOT/pyproject.toml")"
    if [ ! -x "$VENV/bin/retail-datagen" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$checksum" ]; then
        echo "installing retail-datagen${extras:+ with [$extras]} into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet -e "$spec"
        echo "$checksum" > "$stamp"
    fi
}
