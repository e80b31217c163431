"""The two apps gunicorn serves in the benchmark, and how the bench PKI reaches their workers.

The load generator signs with tests/pki.py's throw-away key; the gunicorn workers must trust the
same root, so the parent writes the root and the published chain to files and the skill factory
reads them back (gunicorn passes the factory's literal arguments from its command line).
"""
from __future__ import annotations

import importlib.util
import logging
import sys
import urllib.error
from pathlib import Path
from types import ModuleType
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask, Response, request

from bench.body import SKILL_ID
from skill.settings import PROJECT_ROOT

TESTS = PROJECT_ROOT / "tests"
ROOT_FILE = "root.pem"
CHAIN_FILE = "chain.pem"


def load_test_module(name: str) -> ModuleType:
    """tests/<name>.py, loaded by path (once): tests/ is not a package, and a `tests` from
    site-packages must not win."""
    module_name = f"hip_helper_test_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(TESTS) not in sys.path:
        sys.path.append(str(TESTS))  # for the test helpers' imports of each other (ports)
    spec = importlib.util.spec_from_file_location(module_name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is being built
    spec.loader.exec_module(module)
    return module


def write_trust_files(directory: Path, root: x509.Certificate, chain_pem: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ROOT_FILE).write_bytes(root.public_bytes(Encoding.PEM))
    (directory / CHAIN_FILE).write_bytes(chain_pem)


def _published_chain(chain_url: str, chain_pem: bytes) -> Callable[[str], bytes]:
    """Stands in for S3: serves the bench chain at its URL, and nothing else."""
    def fetch(url: str) -> bytes:
        if url != chain_url:
            raise urllib.error.URLError(f"no certificate chain published at {url}")
        return chain_pem
    return fetch


def skill_app(*, verify: bool, pki_dir: str, chain_url: str, state_dir: str) -> Flask:
    """The real skill, trusting only the bench root; `verify=False` is development mode (no signature check)."""
    # Imported here so that the plain app's workers never load the skill.
    from skill.app import create_app
    from skill.settings import Settings
    from skill.verification import RequestVerifier

    trust = Path(pki_dir)
    state = Path(state_dir)
    # Production logs one line per request (hip-helper serve configures logging); keep that cost in.
    logging.basicConfig(level=logging.INFO, filename=state / "skill-requests.log", format="%(message)s")
    settings = Settings(skill_id=SKILL_ID, dev_mode=not verify, db_path=state / "preferences.sqlite3")
    verifier = RequestVerifier(skill_id=SKILL_ID, verify_signature=verify,
                               trust_roots=[x509.load_pem_x509_certificate((trust / ROOT_FILE).read_bytes())],
                               fetch_chain=_published_chain(chain_url, (trust / CHAIN_FILE).read_bytes()))
    return create_app(settings, verifier=verifier)


def plain_app(*, reply_path: str) -> Flask:
    """The floor to compare against: Flask reading the body and returning a fixed JSON reply from a file."""
    reply = Path(reply_path).read_bytes()
    app = Flask("bench_plain")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    @app.post("/alexa")
    def alexa() -> Response:
        request.get_data(cache=False)
        return Response(reply, mimetype="application/json")

    return app
