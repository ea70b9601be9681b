#!/usr/bin/env bash
# Quick start: create .venv if missing, install retail-datagen, and generate data into ./data
# (dimensions + a short window of facts). Extra arguments go to `retail-datagen generate`;
# without --start/--end/--days/--dims-only it generates the next ${RETAIL_DATAGEN_DAYS:-7} days.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv

window=false
for arg in "$@"; do
    case "$arg" in
        --start|--start=*|--end|--end=*|--days|--days=*|--dims-only|-h|--help) window=true ;;
    esac
done
if [ "$window" = false ]; then
    set -- --days "${RETAIL_DATAGEN_DAYS:-7}" "$@"
fi
exec "$VENV/bin/retail-datagen" generate "$@"
