"""Send the server's small websocket messages at once (TCP_NODELAY), as Tornado-based Streamlit did.

Streamlit's Starlette server binds its socket as socket.socket(family) (protocol number 0), and asyncio only
turns Nagle's algorithm off on sockets whose protocol number is IPPROTO_TCP. So each rerun's second small
message waited for the browser's delayed ACK: a click right after the previous run (a double click, a student
clicking on) took ~40 ms more on this machine's loopback (the smallest Streamlit app alike: 46 ms against
9 ms), and a Windows browser delays its ACKs up to 200 ms. Connections accepted after app.py's first run get
TCP_NODELAY; `benchmarks/client_vs_browser.py` measures the effect.
"""
import asyncio.base_events
import socket


def send_small_messages_at_once() -> bool:
    """Make asyncio set TCP_NODELAY on every TCP stream socket it wraps; True if it does from now on."""
    current = getattr(asyncio.base_events, "_set_nodelay", None)
    if current is None or not hasattr(socket, "TCP_NODELAY"):
        return False  # another Python: leave its transports as they are
    if hasattr(current, "original"):  # ours, from an earlier run of app.py
        return True

    def set_nodelay(sock) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    set_nodelay.original = current  # asyncio's own: marks the patch, and the test checks what it alone does
    asyncio.base_events._set_nodelay = set_nodelay
    return True
