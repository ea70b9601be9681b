#!/usr/bin/env bash
# Create .venv if missing, install retail-datagen with its dev tools, then run the linter, the
# type checker, the layer contracts (import-linter, pyproject.toml) and the test suite. Runs them
# all and exits non-zero if any of them failed.
# Extra arguments go to pytest (e.g. ./scripts/test.sh -k storage).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv dev || exit 1
cd "$ROOT" || exit 1

failed=()
step() {
    local name="$1"
    shift
    echo "==> $*"
    "$@" || failed+=("$name")
}

lint_paths=()
for path in src tests bench; do
    [ -e "$path" ] && lint_paths+=("$path")
done
step ruff "$VENV/bin/ruff" check "${lint_paths[@]}"
step mypy "$VENV/bin/mypy"
step lint-imports "$VENV/bin/lint-imports" --no-cache

# The browser tests (tests/web) drive Debian's chromium; Playwright's own browser downloads are
# not used. Install it when missing (as root), or say how.
ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "note: /usr/bin/chromium is missing and this is not root; the browser tests will be" \
            "skipped. Install it with: sudo apt-get install -y chromium" >&2
        return 0
    fi
    echo "==> apt-get install -y chromium (for the browser tests)"
    if ! { apt-get install -y -qq chromium >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; }; then
        echo "warning: could not install chromium; the browser tests will be skipped" >&2
    fi
    return 0
}
ensure_chromium
# The Azure storage tests (tests/remote) run against Azurite, the npm package's emulator.
ensure_azurite() {
    command -v azurite-blob >/dev/null 2>&1 && return 0
    if ! command -v npm >/dev/null 2>&1; then
        echo "note: npm is missing; the Azure storage tests will be skipped" >&2
        return 0
    fi
    echo "==> npm install -g azurite (for the Azure storage tests)"
    npm install -g --silent azurite >/dev/null 2>&1 ||
        echo "warning: could not install azurite; the Azure storage tests will be skipped" >&2
    return 0
}
ensure_azurite
# The Spark tests (tests/spark) run pyspark in local[2], which needs a Java runtime: Debian's
# openjdk-17-jre-headless. Install it when missing (as root), or say how.
ensure_java() {
    command -v java >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "note: java is missing and this is not root; the Spark tests will be skipped." \
            "Install it with: sudo apt-get install -y openjdk-17-jre-headless" >&2
        return 0
    fi
    echo "==> apt-get install -y openjdk-17-jre-headless (for the Spark tests)"
    if ! { apt-get install -y -qq openjdk-17-jre-headless >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }; }; then
        echo "warning: could not install Java; the Spark tests will be skipped" >&2
    fi
    return 0
}
ensure_java
# -n auto (pytest-xdist): about 40 % faster than one process on a 2-core machine
# The pytest output is kept so the last line can name the failed tests.
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
step pytest bash -c '"$0" -m pytest -n auto -rfE "$@" | tee "'"$report"'"; exit "${PIPESTATUS[0]}"' \
    "$VENV/bin/python" "$@"

if [ "${#failed[@]}" -gt 0 ]; then
    tests="$(grep -E '^(FAILED|ERROR) ' "$report" | awk '{print $2}' | sort -u | paste -sd ' ' -)"
    echo "FAILED: ${failed[*]}${tests:+ — failed tests: $tests}" >&2
    exit 1
fi
echo "all checks passed"
