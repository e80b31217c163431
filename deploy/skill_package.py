"""Build the skill package the ASK CLI deploys (build/skill-package/): skill.json, with the
self-hosted endpoint filled in when one is given and the privacy and terms links under the public
base URL when one is set, plus interactionModels/custom/<locale>.json for every model in interaction_model/.

    python deploy/skill_package.py [--endpoint-uri https://skill.example.org/alexa]
                                   [--public-base-url https://skill.example.org]

With the lambda profile leave the endpoint out: `ask deploy` writes the function's ARN in.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def build(endpoint_uri: str = "", out: Path = ROOT / "build" / "skill-package", public_base_url: str = "") -> Path:
    manifest = json.loads((ROOT / "deploy" / "skill-package" / "skill.json").read_text())
    if public_base_url:
        from skill.legal import link_manifest  # the skill's own pages: /privacy and /terms
        manifest = link_manifest(manifest, public_base_url)
    if endpoint_uri:
        if urlsplit(endpoint_uri).scheme != "https":
            raise SystemExit(f"the endpoint must be an https:// URL, not {endpoint_uri!r}")
        manifest["manifest"]["apis"]["custom"]["endpoint"]["uri"] = endpoint_uri
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
    parser.add_argument("--public-base-url", default=os.environ.get("HIP_HELPER_PUBLIC_BASE_URL", ""),
                        help="where /privacy and /terms are served (default: $HIP_HELPER_PUBLIC_BASE_URL)")
    args = parser.parse_args()
    try:
        print(build(args.endpoint_uri, public_base_url=args.public_base_url).relative_to(ROOT))
    except ValueError as error:  # a base URL that is not https://
        raise SystemExit(f"skill-package: {error}") from None


if __name__ == "__main__":
    main()
