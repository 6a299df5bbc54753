"""The server's sockets send small messages at once: asyncio sets TCP_NODELAY on an accepted connection of a
listening socket made as Streamlit makes it (socket.socket(family), protocol number 0)."""
import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from pages._network import send_small_messages_at_once


def nodelay_of_accepted_connection() -> int:
    async def run() -> int:
        listener = socket.socket(socket.AF_INET)  # as streamlit/web/server/starlette/starlette_server.py binds
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        accepted = asyncio.get_running_loop().create_future()

        def connected(reader, writer):
            accepted.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        value = await asyncio.wait_for(accepted, 5)
        writer.close()
        server.close()
        return value
    # A thread of its own: an earlier test may have left an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


def test_accepted_connections_get_tcp_nodelay(monkeypatch):
    current = asyncio.base_events._set_nodelay  # app.py may have patched it already when the suite runs as one
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", getattr(current, "original", current))  # undone after
    before = nodelay_of_accepted_connection()
    assert send_small_messages_at_once() and send_small_messages_at_once()  # idempotent
    assert nodelay_of_accepted_connection() != 0
    assert before == 0  # what asyncio alone does with such a socket (if a Python fixes it, drop the patch)
