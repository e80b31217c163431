"""Reading raw Alexa request JSON before it is trusted or deserialised (verification, logging)."""
from __future__ import annotations


def field(envelope: object, *path: str) -> object:
    """envelope[path[0]][path[1]]..., or None when any level is missing or not an object."""
    for key in path:
        if not isinstance(envelope, dict):
            return None
        envelope = envelope.get(key)
    return envelope
