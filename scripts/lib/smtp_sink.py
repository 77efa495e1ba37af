"""A minimal SMTP server on 127.0.0.1 that accepts every message, for the scripts that need a
mail server to deliver to: scripts/smtp-sink.py (the scheduler benchmark's, from the command
line) and scripts/probe/mail_outage.py (in a thread of the probe).

Connections are served concurrently (asyncio). Every message whose final dot arrived is
recorded: its Message-ID, its recipients, the monotonic time, and whether its 250 was sent.
`withhold(n)` makes the next n messages get no 250: the connection is dropped after their final
dot, so the client cannot know they arrived. Standard library only.
"""
import asyncio
import socket
import threading
import time


class Sink:
    def __init__(self, port, on_message=None):
        self.port = port
        self.on_message = on_message  # called with the number of messages received so far
        self.lock = threading.Lock()
        self.received = []  # (message_id, [rcpt], monotonic time, answered)
        self.drop = 0       # the next `drop` messages get no 250
        self.started = None

    # --- running it ---------------------------------------------------------------------------

    async def serve(self, ready=None):
        server = await asyncio.start_server(self._session, "127.0.0.1", self.port,
                                            reuse_address=True)
        self.started = time.monotonic()
        if ready:
            ready.set()
        async with server:
            await server.serve_forever()

    def serve_forever(self):
        """Serves in this thread until the process ends."""
        asyncio.run(self.serve())

    def start(self, within=10):
        """Serves in a thread of its own; returns once the port listens."""
        ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self.serve(ready)), daemon=True).start()
        if not ready.wait(within):
            raise SystemExit(f"the SMTP sink did not listen on port {self.port} within {within} s")
        return self

    # --- what it received ---------------------------------------------------------------------

    def withhold(self, n):
        with self.lock:
            self.drop = n

    def snapshot(self):
        with self.lock:
            return list(self.received)

    # --- one connection -----------------------------------------------------------------------

    async def _session(self, reader, writer):
        # Answer each command at once (no Nagle delay on the sink's side).
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(b"220 sink ESMTP\r\n")
        rcpts = []
        try:
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    break
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO"):
                    writer.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                elif cmd.startswith(b"MAIL"):
                    rcpts = []
                    writer.write(b"250 OK\r\n")
                elif cmd.startswith(b"RCPT"):
                    addr = line.strip()[8:].strip().split(b" ")[0].strip(b"<>")
                    rcpts.append(addr.decode(errors="replace").lower())
                    writer.write(b"250 OK\r\n")
                elif cmd.startswith(b"HELO") or cmd in (b"RSET", b"NOOP"):
                    writer.write(b"250 OK\r\n")
                elif cmd == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    message_id = await self._message(reader)
                    if message_id is False:
                        return  # the connection ended before the final dot
                    if not self._record(message_id, rcpts):
                        # The message is here, but the client never hears so.
                        writer.transport.abort()
                        return
                    writer.write(b"250 OK queued\r\n")
                elif cmd == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 no\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _message(reader):
        """Reads a message up to its final dot: its Message-ID (None without one), or False
        when the connection ended first."""
        message_id, in_headers = None, True
        while True:
            data = await reader.readline()
            if not data:
                return False
            if data == b".\r\n":
                return message_id
            if in_headers:
                if data in (b"\r\n", b"\n"):
                    in_headers = False
                elif data.lower().startswith(b"message-id:"):
                    message_id = data.split(b":", 1)[1].strip().strip(b"<>").decode()

    def _record(self, message_id, rcpts):
        """Records a message; returns whether its 250 is to be sent."""
        with self.lock:
            answered = self.drop <= 0
            if not answered:
                self.drop -= 1
            self.received.append((message_id, rcpts, time.monotonic(), answered))
            count = len(self.received)
        if self.on_message:
            self.on_message(count)
        return answered
