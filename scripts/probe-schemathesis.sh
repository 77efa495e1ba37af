#!/usr/bin/env bash
# Schemathesis (PyPI, pinned, in a virtualenv the probe makes under ~/.cache/usefirst and then
# reuses) against /api/openapi.json of a fresh server, one run per demo role with its bearer
# token, bounded in examples and time: no answer may be a server error, and every answer must
# be one the spec describes (status code and body schema).
# Targets: 5xx 0, schema violations 0. PROBE_SEED replays a run.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/probe/schema_fuzz.py" "$@"
