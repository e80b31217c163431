"""Ports for the servers the tests and the bench start (gunicorn, nginx, moto, the Alexa API stand-in).

Binding port 0 hands out a port from the ephemeral range, the same range every outgoing
connection takes its source port from. Between the probe closing and the server binding, a client
connection (a health poll, a store call) can take that port as its source: CI once saw nginx stop
with "bind() ... Address already in use" that way. So a server's port comes from below the ephemeral
range, where only listeners bind, picked at random so that two runs on one machine rarely meet, and
checked free at the moment it is handed out.
"""
from __future__ import annotations

import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
LOWEST = 10_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _first_ephemeral_port() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default, and what other systems mostly use


def _binds(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def listen_port() -> int:
    """A loopback port nothing listens on now, and that no outgoing connection will be given."""
    below = _first_ephemeral_port()
    if below - LOWEST >= 1_000:
        for port in random.sample(range(LOWEST, below), 200):
            if _binds(port):
                return port
    # A machine whose ephemeral range starts low: the OS's choice is the best there is.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]
