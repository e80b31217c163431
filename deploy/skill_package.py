"""Build the skill package the ASK CLI deploys (build/skill-package/): skill.json, with the
self-hosted endpoint filled in when one is given (and a regional endpoint for each --region given),
and the privacy and terms links under the public base URL when one is set, plus
interactionModels/custom/<locale>.json for every model in interaction_model/.

    python deploy/skill_package.py [--endpoint-uri https://skill.example.org/alexa]
                                   [--region EU=https://eu.skill.example.org/alexa] [--region FE=...]
                                   [--public-base-url https://skill.example.org]

Alexa sends a request to the endpoint of the region that serves the user's locale (North America:
en-US, en-CA; Europe and India: en-GB, en-IN; Far East: en-AU), and to the default endpoint where a
region has none. With the lambda profile leave the endpoints out: `ask deploy` writes each region's
function ARN in.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# The manifest's region codes (apis.custom.regions): North America, Europe and India, Far East.
REGIONS = ("NA", "EU", "FE")


def _https(uri: str) -> str:
    if urlsplit(uri).scheme != "https":
        raise SystemExit(f"the endpoint must be an https:// URL, not {uri!r}")
    return uri


def build(endpoint_uri: str = "", out: Path = ROOT / "build" / "skill-package", public_base_url: str = "",
          regions: dict[str, str] | None = None) -> Path:
    manifest = json.loads((ROOT / "deploy" / "skill-package" / "skill.json").read_text())
    if public_base_url:
        from skill.legal import link_manifest  # the skill's own pages: /privacy and /terms
        manifest = link_manifest(manifest, public_base_url)
    custom = manifest["manifest"]["apis"]["custom"]
    if endpoint_uri:
        custom["endpoint"]["uri"] = _https(endpoint_uri)
    for region, uri in (regions or {}).items():
        if region not in REGIONS:
            raise SystemExit(f"the region must be one of {', '.join(REGIONS)}, not {region!r}")
        custom.setdefault("regions", {})[region] = {"endpoint": {
            "uri": _https(uri), "sslCertificateType": custom["endpoint"]["sslCertificateType"]}}
    shutil.rmtree(out, ignore_errors=True)
    models = out / "interactionModels" / "custom"
    models.mkdir(parents=True)
    (out / "skill.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    for model in sorted((ROOT / "interaction_model").glob("*.json")):
        shutil.copyfile(model, models / model.name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-uri", default="", help="the HTTPS URL Alexa posts requests to")
    parser.add_argument("--region", action="append", default=[], metavar="REGION=URI",
                        help="a regional HTTPS endpoint, REGION one of NA, EU, FE (repeatable)")
    parser.add_argument("--public-base-url", default=os.environ.get("HIP_HELPER_PUBLIC_BASE_URL", ""),
                        help="where /privacy and /terms are served (default: $HIP_HELPER_PUBLIC_BASE_URL)")
    args = parser.parse_args()
    regions = dict(pair.partition("=")[::2] for pair in args.region)
    try:
        print(build(args.endpoint_uri, public_base_url=args.public_base_url, regions=regions).relative_to(ROOT))
    except ValueError as error:  # a base URL that is not https://
        raise SystemExit(f"skill-package: {error}") from None


if __name__ == "__main__":
    main()
