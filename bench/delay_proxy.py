#!/usr/bin/env python3
"""A TCP relay that adds a fixed one-way delay in each direction (latency emulation).

Used by registry_bench.sh where the kernel has no netem qdisc: rate limiting is done by a tbf
qdisc on the veth, latency by this relay. Every chunk read from one side is delivered to the other
side DELAY seconds after it arrived, in order, so a request/response round trip costs 2 x DELAY.

  delay_proxy.py LISTEN_HOST LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_SECONDS
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + delay, data or None))
            if not data:
                break
    except (ConnectionError, asyncio.CancelledError):
        await queue.put((loop.time(), None))
    try:
        await sender
    except ConnectionError:
        pass


async def main():
    listen_host, listen_port, up_host, up_port, delay = sys.argv[1:6]
    delay = float(delay)

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(up_host, int(up_port))
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, up_writer, delay),
                             pipe(up_reader, client_writer, delay), return_exceptions=True)

    server = await asyncio.start_server(handle, listen_host, int(listen_port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
