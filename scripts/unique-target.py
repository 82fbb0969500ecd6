#!/usr/bin/env python3
"""A hostile-ish HTTP/1.1 target for memory tests: every response is
`500 {"error": "unique failure <12 random letters>"}`, so every failure message is new.
Listens on 127.0.0.1 only. Usage: unique-target.py PORT"""
import asyncio
import random
import string
import sys


async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            length = 0
            while True:
                header = await reader.readline()
                if header in (b"\r\n", b"\n", b""):
                    break
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            word = "".join(random.choices(string.ascii_lowercase, k=12))
            body = ('{"error": "unique failure %s"}' % word).encode()
            writer.write(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body
            )
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
