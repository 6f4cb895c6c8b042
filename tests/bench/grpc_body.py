#!/usr/bin/python3
"""Writes one gRPC-framed SignJsapiConfigRequest, for h2load -d.

usage: grpc_body.py OUT APP URL

The frame is what a gRPC client sends as the request's DATA: a 1-byte
compressed flag (0), the 4-byte big-endian message length, then the
protobuf message {1: app, 2: url}, hand-encoded (strings are tag 0x0a and
0x12, then a varint length, then the bytes). No dependencies.
"""
import struct
import sys


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string_field(tag: int, value: str) -> bytes:
    data = value.encode("utf-8")
    return bytes([tag]) + varint(len(data)) + data if data else b""


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out, app, url = sys.argv[1:]
    message = string_field(0x0A, app) + string_field(0x12, url)
    with open(out, "wb") as f:
        f.write(b"\x00" + struct.pack(">I", len(message)) + message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
