"""A TCP forwarder for outage tests: listens on 127.0.0.1:LISTEN_PORT and passes every
connection on to 127.0.0.1:TARGET_PORT, both ways, until killed. Killing it is the outage
(open connections reset, new ones refused); starting it again on the same port is the
target coming back.

LISTEN_HOST (default 127.0.0.1) may be another loopback address, such as 127.0.0.2: a name
a server's certificate does not carry, for host name checks.

usage: tcp_proxy.py LISTEN_PORT TARGET_PORT [LISTEN_HOST]
"""
import asyncio
import sys

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
listen_host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def serve(client_reader, client_writer):
    try:
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, target_writer), pipe(target_reader, client_writer))


async def main():
    server = await asyncio.start_server(serve, listen_host, listen_port, reuse_address=True)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
