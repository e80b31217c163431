"""The one YAML loader for content and interaction-model sources.

libyaml's C parser (CSafeLoader) when PyYAML was built with it, which parses the content about ten
times faster than the pure-Python SafeLoader; the pure one otherwise. Both build the same plain data
(tests/test_yaml_loader.py compares them over every file the skill and the model builder read).
"""
from __future__ import annotations

from typing import IO, Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load(stream: str | bytes | IO[Any], loader: type = SafeLoader) -> Any:
    return yaml.load(stream, Loader=loader)
