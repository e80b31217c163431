"""The ASK CLI project and the CloudFormation stack: cfn-lint, the cfn-deployer's parameters, and the
stack created on a moto server whose table then serves the skill's DynamoDB store end to end."""
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml
from dynamodb_server import aws_environment, moto_endpoint  # noqa: F401 (fixtures)

from skill.runtime import SkillRuntime
from skill.settings import Settings
from speech_text import heard
from test_deploy_lambda import cold_start

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infrastructure" / "cfn-deployer" / "skill-stack.yaml"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000010"
# What @ask-cli/cfn-deployer passes to every stack (its _mapStackParameters).
DEPLOYER_PARAMETERS = {"SkillId", "LambdaRuntime", "LambdaHandler", "CodeBucket", "CodeKey", "CodeVersion"}


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !GetAtt...) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else loader.construct_scalar(node)))


def template():
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def test_cfn_lint_passes():
    linted = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(TEMPLATE)], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_template_declares_what_the_deployer_passes_and_answers_with_the_endpoint():
    stack = template()
    assert DEPLOYER_PARAMETERS <= set(stack["Parameters"])
    assert "SkillEndpoint" in stack["Outputs"]  # the output cfn-deployer writes into skill.json


def test_the_function_fits_alexas_deadline_and_only_this_skill_may_invoke_it():
    resources = template()["Resources"]
    function = resources["SkillFunction"]["Properties"]
    assert function["Timeout"] < 8 and function["Handler"] == "LambdaHandler"
    permission = resources["AlexaSkillsKitPermission"]["Properties"]
    assert permission["Principal"] == "alexa-appkit.amazon.com" and permission["EventSourceToken"] == "SkillId"


def test_the_role_allows_only_the_tables_item_calls_and_its_logs():
    statements = template()["Resources"]["SkillFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
                       "logs:CreateLogStream", "logs:PutLogEvents"}
    assert all("*" not in str(statement["Resource"]) for statement in statements)


def test_ask_resources_has_a_lambda_profile_and_a_self_hosted_one():
    resources = json.loads((ROOT / "ask-resources.json").read_text())
    assert resources["askcliResourcesVersion"] == "2020-03-31"
    lambda_profile, web = resources["profiles"]["lambda"], resources["profiles"]["web"]
    infrastructure = lambda_profile["skillInfrastructure"]
    assert infrastructure["type"] == "@ask-cli/cfn-deployer"
    assert (ROOT / infrastructure["userConfig"]["templatePath"]).resolve() == TEMPLATE
    assert infrastructure["userConfig"]["handler"] == "skill.lambda_handler.handler"
    assert infrastructure["userConfig"]["runtime"] == template()["Parameters"]["LambdaRuntime"]["Default"]
    assert lambda_profile["code"]["default"]["src"] == "./build/lambda"  # deploy/lambda/build.py's tree
    # Self-hosted: no code or infrastructure, so `ask deploy` uploads the package and keeps its endpoint.
    assert set(web) == {"skillMetadata"}
    assert web["skillMetadata"]["src"] == lambda_profile["skillMetadata"]["src"] == "./build/skill-package"


# The ASK CLI cfn-deployer's own map from Alexa region to AWS region (its alexaAwsRegionMap), which
# regionOverrides must agree with: Alexa calls a Lambda endpoint only in its region's AWS region.
ALEXA_AWS_REGIONS = {"default": "us-east-1", "NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}


def test_the_lambda_profile_deploys_the_same_code_to_every_alexa_region():
    profile = json.loads((ROOT / "ask-resources.json").read_text())["profiles"]["lambda"]
    config = profile["skillInfrastructure"]["userConfig"]
    assert set(profile["code"]) == {"default", "EU", "FE"}  # default is North America (en-US, en-CA)
    assert {code["src"] for code in profile["code"].values()} == {"./build/lambda"}
    regions = {region: config["awsRegion"] if region == "default" else config["regionOverrides"][region]["awsRegion"]
               for region in profile["code"]}
    assert regions == {region: ALEXA_AWS_REGIONS[region] for region in profile["code"]}
    assert set(config["regionOverrides"]) == {"EU", "FE"}


def test_the_skill_package_carries_regional_endpoints(tmp_path):
    sys.path.insert(0, str(ROOT / "deploy"))
    import skill_package

    out = skill_package.build("https://na.example.org/alexa", out=tmp_path / "pkg",
                              regions={"EU": "https://eu.example.org/alexa", "FE": "https://fe.example.org/alexa"})
    custom = json.loads((out / "skill.json").read_text())["manifest"]["apis"]["custom"]
    assert custom["endpoint"]["uri"] == "https://na.example.org/alexa"
    assert custom["regions"] == {
        region: {"endpoint": {"uri": f"https://{region.lower()}.example.org/alexa", "sslCertificateType": "Wildcard"}}
        for region in ("EU", "FE")}
    for regions in ({"EU": "http://eu.example.org/alexa"}, {"AP": "https://ap.example.org/alexa"}):
        with pytest.raises(SystemExit):
            skill_package.build("https://na.example.org/alexa", out=tmp_path / "bad", regions=regions)


def test_make_skill_package_passes_region_endpoints_through():
    """`make skill-package REGION_ENDPOINTS=...` hands each pair to the script, which writes them."""
    dry = subprocess.run(["make", "-n", "skill-package", "ENDPOINT_URI=https://na.example.org/alexa",
                          "REGION_ENDPOINTS=EU=https://eu.example.org/alexa FE=https://fe.example.org/alexa"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    command = next(line for line in dry.splitlines() if "skill_package.py" in line)
    assert command.endswith("--endpoint-uri 'https://na.example.org/alexa' --region 'EU=https://eu.example.org/alexa' "
                            "--region 'FE=https://fe.example.org/alexa'")
    run = subprocess.run([sys.executable, *command.split(" ", 1)[1].replace("'", "").split()],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    manifest = json.loads((ROOT / "build" / "skill-package" / "skill.json").read_text())["manifest"]
    assert set(manifest["apis"]["custom"]["regions"]) == {"EU", "FE"}


def test_the_skill_package_holds_every_model_and_the_configured_endpoint(tmp_path):
    sys.path.insert(0, str(ROOT / "deploy"))
    import skill_package

    out = skill_package.build("https://skill.example.org/alexa", out=tmp_path / "pkg")
    manifest = json.loads((out / "skill.json").read_text())["manifest"]
    assert manifest["apis"]["custom"]["endpoint"]["uri"] == "https://skill.example.org/alexa"
    models = {path.name for path in (ROOT / "interaction_model").glob("*.json")}
    assert {path.name for path in (out / "interactionModels" / "custom").iterdir()} == models


@pytest.fixture
def stack_table(moto_endpoint, aws_environment):
    aws = {"endpoint_url": moto_endpoint, "region_name": "us-east-1"}
    s3 = boto3.client("s3", **aws)
    s3.create_bucket(Bucket="hip-helper-code")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as bundle:  # moto stores the function; it never runs it here
        bundle.writestr("skill/lambda_handler.py", "def handler(event, context): pass\n")
    s3.put_object(Bucket="hip-helper-code", Key="endpoint/build.zip", Body=code.getvalue())
    cloudformation = boto3.client("cloudformation", **aws)
    name = f"hip-helper-{id(s3)}"
    cloudformation.create_stack(
        StackName=name, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in {
            "SkillId": SKILL_ID, "LambdaRuntime": "python3.12", "LambdaHandler": "skill.lambda_handler.handler",
            "CodeBucket": "hip-helper-code", "CodeKey": "endpoint/build.zip", "CodeVersion": ""}.items()])
    described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    outputs = {output["OutputKey"]: output["OutputValue"] for output in described["Outputs"]}
    function = boto3.client("lambda", **aws).get_function(FunctionName=outputs["SkillEndpoint"])["Configuration"]
    return outputs["PreferencesTableName"], function, moto_endpoint


def test_the_stacks_table_keeps_preferences_through_a_real_skill_request(stack_table):
    table, function, endpoint = stack_table
    environment = function["Environment"]["Variables"]
    assert (environment["HIP_HELPER_STORE"], environment["HIP_HELPER_DYNAMODB_TABLE"]) == ("dynamodb", table)
    assert function["Timeout"] == 7 and function["MemorySize"] == 1024
    description = boto3.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=table)["Table"]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # The function's own settings, with moto as the DynamoDB endpoint.
    settings = Settings.from_env({**environment, "HIP_HELPER_DYNAMODB_ENDPOINT": endpoint})
    runtime = SkillRuntime.from_settings(settings)
    first = runtime.handle(cold_start.launch_request(SKILL_ID))
    again = runtime.handle(cold_start.launch_request(SKILL_ID))
    assert "Welcome to Hip Helper" in heard(first)
    assert heard(again) != heard(first)  # the second launch was recognised from the stored preferences
    items = boto3.client("dynamodb", endpoint_url=endpoint).scan(TableName=table)["Items"]
    assert len(items) == 1 and "COLDSTART" not in json.dumps(items)  # keyed by a hash, never the raw id
