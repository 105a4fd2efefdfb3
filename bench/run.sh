#!/usr/bin/env bash
# Runs every benchmark in reduced sizes (about 10 minutes) and prints each figure and ratio.
# Needs PostgreSQL at 127.0.0.1:5432 (database `bench`, created if missing; never `test`).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m bench.run_all "$@"
