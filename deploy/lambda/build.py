"""Build the AWS Lambda zip: the skill, its content and the core dependencies, as wheels for Lambda's
platform and Python (not this machine's), and nothing Lambda doesn't run.

    python deploy/lambda/build.py [--arch x86_64|arm64] [--bundle-boto3]

Leaves build/lambda/ (the unpacked tree, which ask-resources.json's `code.src` points at) and
build/hip-helper-lambda.zip, byte-identical for the same inputs. Downloaded wheels are kept in
build/wheels/ so a rebuild only resolves versions.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.12"  # the runtime skill-stack.yaml's LambdaRuntime default names
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# Provided by every Lambda Python runtime; ask-sdk-dynamodb-persistence-adapter only needs it at run time.
RUNTIME_PROVIDED = ["boto3>=1.34,<2"]
PERSISTENCE_ADAPTER = "ask-sdk-dynamodb-persistence-adapter>=1.19,<2"
# /var/task comes first on Lambda's sys.path, so the runtime's botocore imports whatever dateutil the
# zip ships: keep to the versions botocore accepts. tzdata: zoneinfo's fallback where the OS has no
# zone database, and Lambda does not document that its image keeps one.
LAMBDA_PINS = ["python-dateutil>=2.8,<3", "tzdata"]
# Web serving and the simulator: Lambda invokes skill.lambda_handler.handler and nothing else.
SKIPPED_SOURCES = {"app.py", "cli.py", "__main__.py", "simulator"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same bytes


def core_requirements() -> list[str]:
    """The [project] dependencies: what pyproject says the skill needs without the web extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-qq", *args], check=True)


def install_dependencies(target: Path, arch: str, bundle_boto3: bool) -> None:
    wheels = ROOT / "build" / "wheels" / f"{PLATFORMS[arch]}-cp{PYTHON_VERSION.replace('.', '')}"
    platform = ["--platform", PLATFORMS[arch], "--python-version", PYTHON_VERSION,
                "--implementation", "cp", "--only-binary=:all:"]
    resolved = core_requirements() + LAMBDA_PINS + (RUNTIME_PROVIDED if bundle_boto3 else [])
    _pip("download", *platform, "--dest", str(wheels), *resolved, PERSISTENCE_ADAPTER, "--no-deps")
    _pip("download", *platform, "--dest", str(wheels), *resolved)
    offline = ["--no-index", "--find-links", str(wheels), "--target", str(target), "--no-compile"]
    _pip("install", *platform, *offline, *resolved)
    # Its only other dependency is boto3, which the runtime provides unless --bundle-boto3.
    _pip("install", *platform, *offline, "--no-deps", PERSISTENCE_ADAPTER)
    shutil.rmtree(target / "bin", ignore_errors=True)


def copy_skill(target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name == "__pycache__" or name.endswith(".pyc")}
        return skipped | (SKIPPED_SOURCES & set(names) if Path(directory) == ROOT / "skill" else set())

    shutil.copytree(ROOT / "skill", target / "skill", ignore=ignore)
    shutil.copytree(ROOT / "content", target / "content", ignore=shutil.ignore_patterns("__pycache__"))
    # The grammar source declares the triage's answer ids (skill.grammar reads them at start-up).
    shutil.copytree(ROOT / "interaction_model" / "source", target / "interaction_model" / "source")


def target_python() -> str | None:
    """An interpreter of the runtime's version: $LAMBDA_PYTHON, python3.12 on PATH, or pyenv's."""
    candidates = [os.environ.get("LAMBDA_PYTHON"), shutil.which(f"python{PYTHON_VERSION}"),
                  *map(str, sorted(Path.home().glob(f".pyenv/versions/{PYTHON_VERSION}*/bin/python{PYTHON_VERSION}")))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == PYTHON_VERSION:
            return candidate
    return None


def compile_bytecode(target: Path) -> str:
    """Lambda's /var/task is read-only, so without shipped .pyc files every cold start compiles
    every module again. Needs a Python of the runtime's version here; without one the zip works,
    only its cold starts are slower."""
    interpreter = target_python()
    if not interpreter:
        return f"no Python {PYTHON_VERSION} found: bytecode not precompiled"
    # --invalidation-mode unchecked-hash: the zip's fixed timestamps would make mtime-checked .pyc stale.
    # -W: third-party sources' own SyntaxWarnings (invalid escapes in docstrings) are not ours to fix.
    subprocess.run([interpreter, "-W", "ignore::SyntaxWarning", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                    "-d", "/var/task", str(target)], check=True)
    return f"bytecode precompiled with {interpreter}"


def write_zip(tree: Path, archive: Path) -> None:
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                entry = zipfile.ZipInfo(path.relative_to(tree).as_posix(), ZIP_DATE)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(entry, path.read_bytes(), compresslevel=9)


def build(arch: str = "x86_64", bundle_boto3: bool = False, out: Path = ROOT / "build") -> Path:
    tree, archive = out / "lambda", out / "hip-helper-lambda.zip"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    install_dependencies(tree, arch, bundle_boto3)
    copy_skill(tree)
    note = compile_bytecode(tree)
    write_zip(tree, archive)
    files = sum(1 for path in tree.rglob("*") if path.is_file())
    print(f"{archive}: {archive.stat().st_size / 1e6:.2f} MB, {files} files, "
          f"{arch}, Python {PYTHON_VERSION}, boto3 {'bundled' if bundle_boto3 else 'from the runtime'}; {note}")
    return archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="x86_64")
    parser.add_argument("--bundle-boto3", action="store_true", help="ship boto3 instead of the runtime's copy")
    arguments = parser.parse_args()
    build(arguments.arch, arguments.bundle_boto3)


if __name__ == "__main__":
    main()
