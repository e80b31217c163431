"""Content and grammar sources parse the same with libyaml's C loader and PyYAML's pure one, so a
machine without libyaml speaks exactly the same words, only starting more slowly."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skill.domain import yaml_loader
from skill.settings import PROJECT_ROOT

# Every YAML file the skill or the model builder reads, whatever locale layers are added later.
SOURCES = sorted([*(PROJECT_ROOT / "content").rglob("*.yaml"),
                  *(PROJECT_ROOT / "interaction_model").rglob("*.yaml")])


def test_the_c_loader_is_used_when_pyyaml_has_libyaml():
    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert yaml_loader.SafeLoader is expected


def test_every_source_file_is_covered():
    names = {path.relative_to(PROJECT_ROOT).as_posix() for path in SOURCES}
    assert {"content/guidance.yaml", "content/triage.yaml", "interaction_model/source/model.yaml"} <= names


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml: only one loader")
@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.relative_to(PROJECT_ROOT).as_posix())
def test_c_and_pure_loaders_build_identical_data(path: Path):
    text = path.read_text(encoding="utf-8")
    fast = yaml_loader.load(text, yaml.CSafeLoader)
    pure = yaml_loader.load(text, yaml.SafeLoader)
    assert fast == pure
    assert repr(fast) == repr(pure)  # same key order and same types (1 vs 1.0 vs True compare equal)


@pytest.mark.parametrize("loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)])
def test_both_loaders_refuse_python_objects(loader: type):
    with pytest.raises(yaml_loader.YAMLError):
        yaml_loader.load("!!python/object/apply:os.system ['true']", loader)
