#!/usr/bin/env python3
"""A minimal SMTP server that accepts and counts every message (for scripts/bench-scheduler.sh).

Usage: smtp-sink.py PORT COUNT_FILE. Serves connections concurrently (asyncio); after each
accepted message it writes the running count to COUNT_FILE.
"""
import asyncio
import socket
import sys

PORT = int(sys.argv[1])
COUNT_FILE = sys.argv[2]
received = 0


async def session(reader, writer):
    global received
    # Answer each command at once (no Nagle delay on the sink's side).
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writer.write(b"220 sink ESMTP\r\n")
    await writer.drain()
    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"):
            writer.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
        elif cmd.startswith(b"HELO") or cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT") \
                or cmd == b"RSET" or cmd == b"NOOP":
            writer.write(b"250 OK\r\n")
        elif cmd == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await writer.drain()
            while True:
                data = await reader.readline()
                if not data or data == b".\r\n":
                    break
            received += 1
            with open(COUNT_FILE, "w") as f:
                f.write(str(received))
            writer.write(b"250 OK\r\n")
        elif cmd == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"502 no\r\n")
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
