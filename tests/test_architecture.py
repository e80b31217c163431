"""The layers stay apart: pure domain modules import no SDK, no Flask and nothing above them."""
import ast
import sys
from pathlib import Path

import pytest

from skill.settings import PROJECT_ROOT

# The grammar (the model's source, and the triage's slot ids) is held to the same rule.
DOMAIN = sorted((PROJECT_ROOT / "skill" / "domain").glob("*.py")) + [PROJECT_ROOT / "skill" / "grammar.py"]
ALLOWED_THIRD_PARTY = {"yaml"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", DOMAIN, ids=lambda path: path.name)
def test_domain_modules_import_only_the_standard_library_yaml_and_each_other(path):
    for module in imported_modules(path):
        top = module.split(".")[0]
        allowed = (top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY
                   or module in ("skill.domain", "skill.grammar") or module.startswith("skill.domain."))
        assert allowed, f"{path.name} imports {module}"


def test_handlers_are_registered_in_one_place_safety_first_catch_all_last():
    from skill.handlers.errors import CatchAll
    from skill.runtime import build_skill, load_services, request_handlers
    from skill.settings import Settings

    settings = Settings(skill_id="amzn1.ask.skill.architecture", db_path=Path("/nonexistent/never-opened"))
    services = load_services(settings)
    order = [type(handler).__name__ for handler in request_handlers(services)]
    # Silent requests first, then red flags before anything that could take the same words.
    assert order[:3] == ["SessionEnded", "SkillEvent", "RedFlag"]
    assert order[-1] == "Fallback"
    assert order.index("OfferReply") < order.index("TriageAnswer") < order.index("DescribePain")
    skill = build_skill(services, settings, serializer=None)
    [handler] = skill.request_dispatcher.exception_mapper.exception_handlers
    assert isinstance(handler, CatchAll)
