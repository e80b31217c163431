"""The test servers' ports never come from the range outgoing connections take their source ports from."""
import socket

from ports import _first_ephemeral_port, listen_port


def test_a_listen_port_is_below_the_ephemeral_range_and_free():
    ports = {listen_port() for _ in range(20)}
    assert all(port < _first_ephemeral_port() for port in ports)
    assert len(ports) > 1  # random, so two servers started together rarely meet
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports.pop()))
