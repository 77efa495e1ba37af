#!/usr/bin/env bash
# The access matrix: every operation of /api/openapi.json whose path takes an id, as every demo
# role (sme, institute, insurer, admin, auditor), on its own organisation's objects and on
# objects of organisations it may not see (other SMEs', the other institute's, ...), reads and
# writes alike. A foreign object must answer 404 (or what a missing id answers), and a refused
# write must change no row.
# Targets: foreign successes 0, leaks 0, row changes 0, every id-taking operation covered
# (beyond a named allowance). Figure, last line: foreign successes N / attempts.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/probe/access.py" "$@"
