"""The Lambda zip as Lambda runs it: built for the target platform, unpacked, imported by a bare
interpreter whose only import path is the zip, answering a LaunchRequest."""
import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

from dynamodb_server import dummy_aws_environment, moto_endpoint  # noqa: F401 (fixture)
from speech_text import heard

ROOT = Path(__file__).resolve().parents[1]
MAX_ZIP_BYTES = 8 * 1024 * 1024
NOT_ON_LAMBDA = ("flask", "werkzeug", "gunicorn", "cryptography", "boto3", "botocore", "pytest", "moto")


def _script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "deploy" / "lambda" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build, cold_start = _script("build"), _script("cold_start")


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory):
    # build/wheels/ caches the downloads between runs; the zip itself goes to a temp dir.
    return build.build(out=tmp_path_factory.mktemp("lambda-build"))


@pytest.fixture(scope="module")
def unpacked(lambda_zip, tmp_path_factory):
    tree = tmp_path_factory.mktemp("var-task")
    zipfile.ZipFile(lambda_zip).extractall(tree)
    return tree


def test_the_zip_is_small_and_holds_nothing_lambda_does_not_run(lambda_zip):
    assert lambda_zip.stat().st_size <= MAX_ZIP_BYTES
    top_level = {name.split("/")[0].split("-")[0].lower() for name in zipfile.ZipFile(lambda_zip).namelist()}
    assert not top_level & set(NOT_ON_LAMBDA)
    assert {"skill", "content", "ask_sdk_core", "ask_sdk_dynamodb", "yaml", "orjson"} <= top_level
    assert "simulator" not in {name.split("/")[1] for name in zipfile.ZipFile(lambda_zip).namelist()
                               if name.startswith("skill/")}


def test_native_wheels_are_for_lambda_not_this_machine(lambda_zip):
    natives = [name for name in zipfile.ZipFile(lambda_zip).namelist() if name.endswith(".so")]
    assert natives and all("cpython-312-x86_64-linux-gnu" in name for name in natives)


def test_the_same_inputs_give_the_same_zip(lambda_zip, tmp_path):
    assert build.build(out=tmp_path).read_bytes() == lambda_zip.read_bytes()


def test_arm64_on_request_gets_aarch64_wheels(tmp_path):
    natives = [name for name in zipfile.ZipFile(build.build(arch="arm64", out=tmp_path)).namelist()
               if name.endswith(".so")]
    assert natives and all("aarch64" in name for name in natives)


def test_a_bare_interpreter_answers_a_launch_request_from_the_unpacked_zip(unpacked, tmp_path):
    python = build.target_python() or sys.executable  # Lambda's 3.12 where this machine has one
    result = cold_start.invoke_bare(unpacked, cold_start.launch_request(), python, tmp_path)
    assert "Welcome to Hip Helper" in heard(result["reply"])
    assert result["reply"]["response"]["shouldEndSession"] is False
    loaded = {name.split(".")[0] for name in result["modules"]}
    assert not loaded & set(NOT_ON_LAMBDA)
    assert "orjson" in loaded  # the door and the reply's encoding, from the zip's manylinux wheel


def test_a_bare_interpreter_refuses_another_skills_event(unpacked, tmp_path):
    python = build.target_python() or sys.executable
    with pytest.raises(RuntimeError, match="VerificationError"):
        cold_start.invoke_bare(unpacked, cold_start.launch_request(skill_id="amzn1.ask.skill.other"), python, tmp_path)


@pytest.fixture
def lambda_runtime_boto3(tmp_path):
    """The Lambda runtime's boto3, stood in for by this venv's copy: a directory holding only boto3 and
    what it needs, so nothing else from the venv is importable."""
    import boto3
    import botocore
    import jmespath
    import s3transfer

    runtime = tmp_path / "lambda-runtime"
    runtime.mkdir()
    for module in (boto3, botocore, jmespath, s3transfer):
        (runtime / module.__name__).symlink_to(Path(module.__file__).parent)
    return runtime


def test_the_zip_keeps_preferences_in_dynamodb_without_importing_the_runtimes_boto3(unpacked, lambda_runtime_boto3,
                                                                       moto_endpoint, tmp_path):
    python = build.target_python() or sys.executable
    environment = {**dummy_aws_environment(), "HIP_HELPER_STORE": "dynamodb",
                   "HIP_HELPER_DYNAMODB_TABLE": "lambda-zip-preferences", "HIP_HELPER_DYNAMODB_ENDPOINT": moto_endpoint}
    # Each cold start gets its own empty state directory: what it remembers can only come from the table.
    first, again = (cold_start.invoke_bare(unpacked, cold_start.launch_request(), python, tmp_path / run,
                                           lambda_runtime_boto3, environment) for run in ("first", "again"))
    assert "Welcome to Hip Helper" in heard(first["reply"])
    assert heard(again["reply"]) != heard(first["reply"])  # a returning user, read back from DynamoDB
    assert "botocore" not in {name.split(".")[0] for name in again["modules"]}  # Lambda's credentials are in the environment
