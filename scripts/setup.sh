# Sourced by scripts/run and scripts/test: a virtualenv with the project installed,
# and the front-end packages from the npm registry. Usage: . scripts/setup.sh [test]
set -euo pipefail
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  python -m pip install --quiet -e ".[test]"
else
  python -m pip install --quiet -e .
fi
if command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --loglevel=error
else
  echo "npm not found: pages will be served without their stylesheets (install Node.js 18+)." >&2
fi
