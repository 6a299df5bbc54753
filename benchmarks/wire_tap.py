"""Time Streamlit's websocket messages on the wire, as the kernel saw them pass the loopback interface.

A browser's own timestamps (DevTools' websocket frame events) are taken inside chromium, after a frame has
waited for chromium's own work, so on a busy machine they include time spent drawing the previous deltas. tcpdump's
timestamps are the kernel's, taken as each packet crosses `lo`, whichever process sent or reads it: the same
clock for chromium's connection and for the protocol client's, and no work of either in it.

    with WireTap(server_url) as tap:
        ...            # clicks from chromium and from benchmarks/streamlit_client.py
    for port, ms in tap.rerun_to_image_ms().items(): ...

Needs tcpdump (Debian: `apt-get install -y tcpdump`) and the right to capture (root, or CAP_NET_RAW).
Only plain websocket frames are read: Streamlit's server does not negotiate permessage-deflate unless
server.enableWebsocketCompression is set, and the reader refuses compressed frames rather than misread them.
"""
from __future__ import annotations

import contextlib
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from streamlit_client import STREAM_PATH, FaceDeltas, is_rerun

ETHERNET, LINUX_COOKED = 1, 113  # pcap link types of `-i lo` and of `-i any`
IPV4, IPV6, TCP = 0x0800, 0x86DD, 6


@dataclass
class Segment:
    at: float          # kernel timestamp: seconds since the epoch, as time.time()
    client_port: int   # the connection, named by its client's port
    from_client: bool
    seq: int
    payload: bytes


@dataclass
class Message:
    at: float          # when the packet holding its last byte crossed lo
    from_client: bool
    payload: bytes


class WireTap:
    """tcpdump on lo for the port of one server (its URL), started on enter and stopped on exit."""

    def __init__(self, server_url: str):
        if shutil.which("tcpdump") is None:
            raise RuntimeError("the wire tap needs tcpdump: apt-get install -y tcpdump")
        self.port = urlsplit(server_url).port
        self.dir = tempfile.TemporaryDirectory(prefix="genlab-wire-")
        self.path = Path(self.dir.name) / "lo.pcap"

    def __enter__(self):
        # --immediate-mode hands each packet over as it comes (else the kernel holds them in blocks, and those
        # held at the stop are lost), -U writes each at once, -s 0 keeps whole packets, -B: none dropped
        cmd = ["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-B", "8192", "-w", str(self.path),
               f"tcp port {self.port}"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()  # "listening on lo, ..." once the capture runs
        if "listening" not in line:
            self.proc.kill()
            raise RuntimeError(f"tcpdump did not start: {line.strip() or self.proc.stderr.read().strip()}")
        return self

    def __exit__(self, *exc):
        time.sleep(0.5)  # the last packets reach the file
        self.proc.send_signal(signal.SIGINT)
        tail = self.proc.communicate(timeout=10)[1]
        self.summary = " ".join(tail.split())  # "N packets captured ... 0 packets dropped by kernel"
        return False

    def messages(self) -> dict[int, list[Message]]:
        return websocket_messages(read_pcap(self.path.read_bytes(), self.port))

    def rerun_to_image_ms(self, since: float = 0.0) -> dict[int, list[float]]:
        """Per connection, rerun -> image times of the reruns sent at or after `since` (time.time())."""
        return {port: rerun_to_image_ms(msgs, since) for port, msgs in self.messages().items()}

    def close(self):
        self.dir.cleanup()


@contextlib.contextmanager
def wire_tap_if_possible(server_url: str):
    """A running WireTap on the server's port, or None (and why, printed) where tcpdump cannot capture."""
    try:
        tap = WireTap(server_url).__enter__()
    except (RuntimeError, OSError) as e:
        print(f"wire tap: not measured ({e})", flush=True)
        yield None
        return
    try:
        yield tap
    finally:
        tap.__exit__(None, None, None)


def read_pcap(data: bytes, server_port: int) -> list[Segment]:
    """The TCP segments with a payload, to or from server_port, from a classic pcap file's bytes."""
    magic = data[:4]
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<",
             b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if order is None:
        raise ValueError("not a pcap file (pcapng is not read; tcpdump -w writes pcap)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(order + "I", data[20:24])[0]
    segments, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caught, _ = struct.unpack(order + "IIII", data[at:at + 16])
        packet = data[at + 16:at + 16 + caught]
        at += 16 + caught
        segment = _tcp(packet, link, sec + frac / (1e9 if nano else 1e6), server_port)
        if segment is not None:
            segments.append(segment)
    return segments


def _tcp(packet: bytes, link: int, at: float, server_port: int) -> Segment | None:
    if link == ETHERNET:
        ethertype, ip = struct.unpack("!H", packet[12:14])[0], packet[14:]
    elif link == LINUX_COOKED:
        ethertype, ip = struct.unpack("!H", packet[14:16])[0], packet[16:]
    else:
        raise ValueError(f"pcap link type {link} is not read")
    if ethertype == IPV4 and ip[9] == TCP:
        total, tcp = struct.unpack("!H", ip[2:4])[0], ip[(ip[0] & 0x0F) * 4:]
        tcp = tcp[:total - (ip[0] & 0x0F) * 4]
    elif ethertype == IPV6 and ip[6] == TCP:  # loopback traffic carries no extension headers
        tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    else:
        return None
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    payload = tcp[(tcp[12] >> 4) * 4:]
    if not payload or server_port not in (sport, dport):
        return None
    from_client = dport == server_port
    return Segment(at, sport if from_client else dport, from_client, seq, payload)


def websocket_messages(segments: list[Segment]) -> dict[int, list[Message]]:
    """Per websocket connection to Streamlit's stream (by client port): its binary messages, both ways, in time.
    Each direction's payloads are joined in capture order, which on loopback is the stream's order."""
    streams = defaultdict(list)  # (client_port, from_client) -> [(at, bytes)], each byte's segment once
    seen = set()
    for s in segments:
        if (s.client_port, s.from_client, s.seq) not in seen:  # a retransmission is the same bytes again
            seen.add((s.client_port, s.from_client, s.seq))
            streams[s.client_port, s.from_client].append((s.at, s.payload))
    stream_request = [b"/" + STREAM_PATH.encode()]
    # only connections whose start was captured and that opened the stream (not a page, /media or health)
    ports = {port for (port, from_client), chunks in streams.items()
             if from_client and chunks[0][1].split(b"\r\n", 1)[0].split(b" ")[1:2] == stream_request}
    return {port: sorted([Message(at, from_client, payload)
                          for from_client in (True, False)
                          for at, payload in _frames(streams[port, from_client], masked=from_client)],
                         key=lambda m: m.at)
            for port in sorted(ports)}


def _frames(chunks: list[tuple[float, bytes]], masked: bool):
    """(at, payload) of each complete binary message after the HTTP upgrade; at = its last byte's packet."""
    data = b"".join(c for _, c in chunks)
    ends, total = [], 0
    for at, c in chunks:
        total += len(c)
        ends.append((total, at))
    pos = data.find(b"\r\n\r\n") + 4
    message, opcode = b"", None
    while pos + 2 <= len(data):
        head, length = data[pos], data[pos + 1] & 0x7F
        if head & 0x70:
            raise ValueError("a compressed websocket frame: run the server without websocket compression")
        at = pos + 2
        if length == 126:
            length, at = struct.unpack("!H", data[at:at + 2])[0], at + 2
        elif length == 127:
            length, at = struct.unpack("!Q", data[at:at + 8])[0], at + 8
        key = data[at:at + 4] if masked else None
        at += 4 if masked else 0
        if at + length > len(data):
            return  # the capture ended inside this frame
        body = data[at:at + length]
        if key:
            body = bytes(b ^ key[i % 4] for i, b in enumerate(body))
        pos = at + length
        opcode = head & 0x0F or opcode
        message += body
        if head & 0x80:  # FIN: the message is whole
            if opcode == 2:
                yield next(t for end, t in ends if end >= pos), message
            message = b""


def rerun_to_image_ms(messages: list[Message], since: float = 0.0) -> list[float]:
    """Per rerun request sent at or after `since`: ms from its last byte on the wire to the new image's delta,
    the first after it. Every message before counts too, as the cache a later ref_hash message names."""
    out, sent_at, is_face = [], None, FaceDeltas()
    for m in messages:
        if m.from_client:
            if is_rerun(m.payload) and m.at >= since:
                sent_at = m.at
        elif is_face(m.payload) and sent_at is not None:
            out.append(1000 * (m.at - sent_at))
            sent_at = None
    return out
