#!/usr/bin/env bash
# Probes mail through an SMTP outage (scripts/probe/mail_outage.py): mails are queued (trial
# requests, forgotten-password links) while the SMTP server is down and tried until each has
# failed three times; then a sink (scripts/lib/smtp_sink.py, recording each Message-ID and
# recipient) starts, and the outbox must empty. A second round withholds the sink's 250 after
# DATA for a few messages and drops the connection: those are re-sent by SMTP's nature and
# counted apart.
# Targets: lost 0, duplicated 0 (a message received twice after its 250 was sent); figures:
# queued, delivered, seconds from the sink's start to the last delivery, re-sent after a
# withheld 250.
# SQLite by default; PostgreSQL with PROBE_DATABASE_URL=postgres://.../postgres.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 scripts/probe/mail_outage.py "$@"
