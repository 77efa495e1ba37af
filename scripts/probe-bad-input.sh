#!/usr/bin/env bash
# The bad input corpus over every operation of /api/openapi.json that takes a body or
# parameters, as a role allowed to call it, on its own objects: bad JSON, wrong types, strings
# and bodies over the limits, odd unicode, overflowing and sub-minor amounts, impossible dates,
# bad ids and query parameters, and mass assignment (fields that are not inputs, read back).
# Targets: 5xx 0, partial writes (rows changed by a 4xx) 0, fields that took effect 0, 4xx
# answers that are not application/problem+json 0. PROBE_SEED replays a run's sample.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/probe/bad_input.py" "$@"
