#!/usr/bin/env bash
# Installs Bastion and runs the demo: an API server on SQLite with a demo bank of generated media.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/bastion demo "$@"
