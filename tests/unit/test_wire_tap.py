"""benchmarks/wire_tap.py without tcpdump: pcap files built here byte by byte, as tcpdump writes them for `-i lo`
(Ethernet, IPv4 or IPv6, TCP), with Streamlit's websocket frames split across segments, fragmented, masked and
retransmitted; the reader finds the rerun and the new image's delta and times them by their last bytes."""
from __future__ import annotations

import struct

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.benchmark_modules import load_benchmark

sc = load_benchmark("streamlit_client")  # first: wire_tap imports it by this name
wt = load_benchmark("wire_tap")

SERVER = 8501
UPGRADE = b"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n"
SWITCHED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"


def frame(payload: bytes, masked: bool, opcode: int = 2, fin: bool = True, rsv1: bool = False) -> bytes:
    """One websocket frame: a client's are masked (RFC 6455), a server's are not."""
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    size = [n] if n < 126 else [126, *struct.pack("!H", n)] if n < 2**16 else [127, *struct.pack("!Q", n)]
    if not masked:
        return head + bytes(size) + payload
    key = b"\x01\x02\x03\x04"
    size[0] |= 0x80
    return head + bytes(size) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def rerun() -> bytes:
    msg = BackMsg()
    msg.rerun_script.query_string = "seed=7"
    return msg.SerializeToString()


def forward(image: bool, cached_as: str = "", ref: str = "") -> bytes:
    msg = ForwardMsg()
    if ref:
        msg.ref_hash = ref
    elif image:
        msg.delta.new_element.imgs.imgs.add(url="/media/" + "f" * 300 + ".jpg")  # a frame over 125 bytes
    else:
        msg.new_session.page_script_hash = "h"
    if cached_as:
        msg.hash, msg.metadata.cacheable = cached_as, True
    return msg.SerializeToString()


class Capture:
    """A pcap file in the making: TCP segments between 127.0.0.1 (or ::1) ports, at given times."""

    def __init__(self, ipv6: bool = False):
        self.records, self.ipv6, self.seq = [], ipv6, {}

    def send(self, at: float, client_port: int, from_client: bool, payload: bytes, seq: int | None = None):
        key = (client_port, from_client)
        seq = self.seq.get(key, 1000) if seq is None else seq
        self.seq[key] = max(self.seq.get(key, 1000), seq + len(payload))
        sport, dport = (client_port, SERVER) if from_client else (SERVER, client_port)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x18, 65535, 0, 0) + payload
        if self.ipv6:
            ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + b"\0" * 15 + b"\1" + b"\0" * 15 + b"\1"
            ethertype = 0x86DD
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, b"\x7f\0\0\1", b"\x7f\0\0\1")
            ethertype = 0x0800
        packet = b"\0" * 12 + struct.pack("!H", ethertype) + ip + tcp
        sec, usec = int(at), round((at - int(at)) * 1e6)
        self.records.append(struct.pack("<IIII", sec, usec, len(packet), len(packet)) + packet)
        return seq

    def bytes(self) -> bytes:
        header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, wt.ETHERNET)
        return header + b"".join(self.records)


def a_click(cap: Capture, port: int = 40000, t0: float = 100.0) -> None:
    """A tab's websocket: upgrade, then a rerun split across two segments, then a non-image message and the
    image delta in two fragments, the second segment sent twice (a retransmission)."""
    cap.send(t0, port, True, UPGRADE)
    cap.send(t0 + 0.001, port, False, SWITCHED)
    request = frame(rerun(), masked=True)
    cap.send(t0 + 0.010, port, True, request[:5])
    cap.send(t0 + 0.012, port, True, request[5:])  # the rerun's last byte: t0 + 12 ms
    cap.send(t0 + 0.015, port, False, frame(forward(image=False), masked=False))
    image = forward(image=True)
    first = frame(image[:4], masked=False, fin=False)
    last = frame(image[4:], masked=False, opcode=0)
    cap.send(t0 + 0.020, port, False, first)
    seq = cap.send(t0 + 0.032, port, False, last)  # the image's last byte: t0 + 32 ms
    cap.send(t0 + 0.040, port, False, last, seq=seq)  # retransmitted: the same bytes, not a second message


@pytest.mark.parametrize("ipv6", [False, True])
def test_a_click_is_timed_from_the_reruns_last_byte_to_the_images(ipv6):
    cap = Capture(ipv6)
    a_click(cap)
    messages = wt.websocket_messages(wt.read_pcap(cap.bytes(), SERVER))
    assert list(messages) == [40000]
    assert [m.from_client for m in messages[40000]] == [True, False, False]
    assert wt.rerun_to_image_ms(messages[40000]) == [pytest.approx(20.0, abs=0.01)]


def test_only_websockets_whose_start_was_captured_count():
    cap = Capture()
    cap.send(99.0, 40001, True, b"GET /media/face.jpg HTTP/1.1\r\n\r\n")
    cap.send(99.1, 40001, False, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
    cap.send(99.2, 40002, False, frame(forward(image=True), masked=False))  # opened before the capture
    a_click(cap, port=40003)
    assert list(wt.websocket_messages(wt.read_pcap(cap.bytes(), SERVER))) == [40003]


def test_each_connection_and_the_since_filter():
    cap = Capture()
    a_click(cap, port=40000, t0=100.0)
    a_click(cap, port=40005, t0=200.0)
    records = cap.bytes()
    messages = wt.websocket_messages(wt.read_pcap(records, SERVER))
    assert {port: wt.rerun_to_image_ms(m) for port, m in messages.items()} == {
        40000: [pytest.approx(20.0, abs=0.01)], 40005: [pytest.approx(20.0, abs=0.01)]}
    # the rerun's first segment is not its end: it counts from `since` up to its last byte's time
    assert wt.rerun_to_image_ms(messages[40000], since=100.011) == [pytest.approx(20.0, abs=0.01)]
    assert wt.rerun_to_image_ms(messages[40000], since=100.013) == []


def test_a_face_sent_again_as_a_reference_to_the_cached_one():
    cap = Capture()
    cap.send(1.0, 40000, True, UPGRADE)
    cap.send(1.001, 40000, False, SWITCHED + frame(forward(image=True, cached_as="face-1"), masked=False))
    cap.send(2.0, 40000, True, frame(rerun(), masked=True))
    cap.send(2.005, 40000, False, frame(forward(image=False, ref="face-1"), masked=False))  # the first face again
    messages = wt.websocket_messages(wt.read_pcap(cap.bytes(), SERVER))[40000]
    assert wt.rerun_to_image_ms(messages, since=1.5) == [pytest.approx(5.0, abs=0.01)]


def test_a_compressed_frame_is_refused_not_misread():
    cap = Capture()
    cap.send(1.0, 40000, True, UPGRADE)
    cap.send(1.1, 40000, False, SWITCHED + frame(b"xx", masked=False, rsv1=True) + b"xx")
    with pytest.raises(ValueError, match="compress"):
        wt.websocket_messages(wt.read_pcap(cap.bytes(), SERVER))


def test_not_a_pcap_file():
    with pytest.raises(ValueError, match="not a pcap"):
        wt.read_pcap(b"\x0a\x0d\x0d\x0a" + b"\0" * 40, SERVER)  # pcapng's magic
