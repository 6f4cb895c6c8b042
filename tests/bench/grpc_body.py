#!/usr/bin/python3
"""gRPC request bodies, hand-encoded: for h2load -d and scripts/bench.py.

usage: grpc_body.py OUT APP URL

Writes one gRPC-framed SignJsapiConfigRequest {1: app, 2: url} to OUT. The
frame is what a gRPC client sends as the request's DATA: a 1-byte compressed
flag (0), the 4-byte big-endian message length, then the protobuf message.
The messages the benchmarks send have string fields only: each is its tag
(field number << 3 | 2), a varint length, then the bytes; an empty string is
left out, as protobuf does. No dependencies: scripts/bench.py imports
message() and grpc_frame() from here.
"""
import struct
import sys


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def message(*fields: tuple) -> bytes:
    """Protobuf bytes of (field number, string) pairs."""
    out = b""
    for number, value in fields:
        data = value.encode("utf-8")
        if data:
            out += varint(number << 3 | 2) + varint(len(data)) + data
    return out


def grpc_frame(payload: bytes) -> bytes:
    """One uncompressed gRPC message frame around `payload`."""
    return b"\x00" + struct.pack(">I", len(payload)) + payload


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out, app, url = sys.argv[1:]
    with open(out, "wb") as f:
        f.write(grpc_frame(message((1, app), (2, url))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
