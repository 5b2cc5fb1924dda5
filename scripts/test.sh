#!/usr/bin/env bash
# Installs everything the tests need and runs the whole suite: lint, types, and pytest on SQLite and
# PostgreSQL. PostgreSQL comes from BASTION_TEST_POSTGRES_URL, else a local server on 127.0.0.1:5432
# (started if installed but stopped). Without one, PostgreSQL tests skip with the reason, except in
# CI (CI=true), where they must run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh test
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

pg_answers() { .venv/bin/python - "$1" <<'PY'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}
if [ -z "${BASTION_TEST_POSTGRES_URL:-}" ]; then
  candidate="postgresql+psycopg://postgres@127.0.0.1:5432/test"
  if ! pg_answers "$candidate" && command -v pg_ctlcluster >/dev/null 2>&1; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    done
    sleep 2
  fi
  if pg_answers "$candidate"; then
    export BASTION_TEST_POSTGRES_URL="$candidate"
  else
    echo "test.sh: no PostgreSQL on 127.0.0.1:5432; PostgreSQL tests will skip (fail in CI)" >&2
  fi
fi

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 "$@"
