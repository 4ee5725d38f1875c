"""Hostile clients against a running embedserve, for scripts/abuse.sh (standard library only).

usage: attack.py HOST PORT SECONDS REPORT.json

For SECONDS it keeps up, side by side: thousands of idle sockets, headers sent a byte a second,
bodies that drip, clients that request large answers and never read them, requests with made-up
methods and huge request ids, texts of megabytes, analogies of 180,000 words and clients that
hang up mid-request. It counts what the server answered to each and writes REPORT.json.
"""

import asyncio
import json
import socket
import sys
from collections import Counter

HOST, PORT, SECONDS, REPORT = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
IDLE_SOCKETS = 3000
SLOW_HEADERS = 200
SLOW_BODIES = 100
NEVER_READ = 8
outcomes: dict[str, Counter] = {}


def count(kind: str, outcome: str) -> None:
    outcomes.setdefault(kind, Counter())[outcome] += 1


async def open_connection():
    return await asyncio.open_connection(HOST, PORT, limit=1 << 20)


async def status_of(reader) -> str:
    line = await reader.readline()
    return line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1 ") else "closed"


def request(method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\n{headers}\r\n"
    return head.encode() + body


async def hold(kind: str, setup, deadline: float) -> None:
    """Opens a connection, runs `setup` on it, then waits until the server closes it."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            reader, writer = await open_connection()
        except OSError as error:
            count(kind, f"connect failed: {error.__class__.__name__}")
            await asyncio.sleep(1)
            continue
        try:
            await setup(reader, writer)
            data = await asyncio.wait_for(reader.read(), timeout=max(0.1, deadline - loop.time()))
            count(kind, "closed by server" if not data else "answered")
        except asyncio.TimeoutError:
            count(kind, "still open at the end")
            writer.close()
            return
        except (ConnectionError, OSError):
            count(kind, "reset by server")
        writer.close()


async def nothing(reader, writer) -> None:
    pass


async def slow_header(reader, writer) -> None:
    for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


async def slow_body(reader, writer) -> None:
    writer.write(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
    while True:
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(1)


async def never_read(deadline: float) -> None:
    """Asks for about 40 MB of float rows and never reads the answer."""
    text = " ".join(["hello"] * 8000)
    body = json.dumps({"inputs": [text, text], "pooling": "none"}).encode()
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            reader, writer = await open_connection()
            writer.transport.set_write_buffer_limits(0)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            writer.write(request("POST", "/embed", body))
            await writer.drain()
            # Never read: wait until the server gives up on us.
            while loop.time() < deadline and not reader.at_eof():
                await asyncio.sleep(0.5)
                if writer.is_closing():
                    break
                try:
                    sock.getpeername()
                except OSError:
                    break
            count("never-read", "cycle")
            writer.close()
        except (ConnectionError, OSError) as error:
            count("never-read", f"error {error.__class__.__name__}")
            await asyncio.sleep(0.5)


async def one_shot(kind: str, payload: bytes, deadline: float, pause: float = 0.0) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            reader, writer = await open_connection()
            writer.write(payload)
            await writer.drain()
            count(kind, await asyncio.wait_for(status_of(reader), timeout=30))
            writer.close()
        except (asyncio.TimeoutError, ConnectionError, OSError) as error:
            count(kind, f"error {error.__class__.__name__}")
        await asyncio.sleep(pause)


async def hang_up(deadline: float) -> None:
    """Sends a search and hangs up before the answer."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            reader, writer = await open_connection()
            writer.write(request("GET", "/similar?word=government&topn=10"))
            await writer.drain()
            writer.transport.abort()
            count("hang-up", "sent")
        except (ConnectionError, OSError) as error:
            count("hang-up", f"error {error.__class__.__name__}")
        await asyncio.sleep(0.05)


async def main() -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SECONDS
    huge_text = json.dumps({"inputs": "word " * 380_000}).encode()
    # 180,000 words in a body under body_limit_bytes (2 MB): refused by max_query_words.
    huge_analogy = json.dumps({"positive": ["the"] * 180_000}).encode()
    junk = [request(f"JUNK{i}", "/embed") for i in range(50)]
    tasks = [hold("idle", nothing, deadline) for _ in range(IDLE_SOCKETS)]
    tasks += [hold("slow-header", slow_header, deadline) for _ in range(SLOW_HEADERS)]
    tasks += [hold("slow-body", slow_body, deadline) for _ in range(SLOW_BODIES)]
    tasks += [never_read(deadline) for _ in range(NEVER_READ)]
    tasks += [one_shot("huge-text", request("POST", "/embed", huge_text), deadline, 0.2)]
    tasks += [one_shot("huge-analogy", request("POST", "/similar", huge_analogy), deadline, 0.2)]
    tasks += [one_shot("junk-method", payload, deadline, 0.05) for payload in junk[:5]]
    long_id = request("GET", "/health", headers=f"X-Request-Id: {'x' * 60000}\r\n")
    tasks += [one_shot("long-request-id", long_id, deadline, 0.1)]
    tasks += [hang_up(deadline)]
    await asyncio.gather(*tasks)
    json.dump({kind: dict(c) for kind, c in outcomes.items()}, open(REPORT, "w"), indent=1)


asyncio.run(main())
