#!/usr/bin/env python3
"""A minimal SMTP server that accepts and counts every message (for scripts/bench-scheduler.sh).

Usage: smtp-sink.py PORT COUNT_FILE. Serves connections concurrently (asyncio); after each
accepted message it writes the running count to COUNT_FILE. The server is scripts/lib/smtp_sink.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from smtp_sink import Sink  # noqa: E402


PORT = int(sys.argv[1])
COUNT_FILE = sys.argv[2]


def write_count(count):
    with open(COUNT_FILE, "w") as f:
        f.write(str(count))


Sink(PORT, on_message=write_count).serve_forever()
