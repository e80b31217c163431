"""`hip-helper`: serve the skill, talk to it locally, build and check the model, print the triage graph."""
from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import runpy
import sys

from skill.domain.content import ContentError
from skill.settings import DEV_SKILL_ID, PROJECT_ROOT, Settings, SettingsError
from skill.simulator.cli import register as register_simulator

GUNICORN_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> int:
    from skill.app import create_app

    if args.dev:
        host, port = args.host or "127.0.0.1", args.port or 5000
        if not _is_loopback(host):
            raise SettingsError(f"--dev skips signature checks, so it only binds to loopback, not {host}")
        settings = Settings.from_env(dev_mode=True)
        if not settings.skill_id:
            settings = Settings.from_env(dev_mode=True, skill_id=DEV_SKILL_ID)
        app = create_app(settings)
        print(f"Hip Helper in DEVELOPMENT mode on http://{host}:{port}/alexa: loopback only, signature check OFF, "
              f"timestamp and skill id ({settings.skill_id}) checked; preferences in {settings.db_path}", flush=True)
        app.run(host=host, port=port, threaded=True)
        return 0
    settings = Settings.from_env()
    settings.require_skill_id()
    bind = f"{args.host or '0.0.0.0'}:{args.port or 8080}" if (args.host or args.port) else None
    return _run_gunicorn(create_app(settings), bind=bind)


def _run_gunicorn(app, *, bind: str | None) -> int:
    from gunicorn.app.base import BaseApplication

    class ProductionServer(BaseApplication):
        def load_config(self) -> None:
            for name, value in runpy.run_path(str(GUNICORN_CONFIG)).items():
                if name in self.cfg.settings:
                    self.cfg.set(name, value)
            if bind:
                self.cfg.set("bind", [bind])

        def load(self):
            return app

    ProductionServer().run()
    return 0


def triage_graph(args: argparse.Namespace) -> int:
    from skill.domain.triage import TriageEngine

    print(TriageEngine.load(Settings.from_env().content_dir / "triage.yaml").to_mermaid())
    return 0


def build_model(args: argparse.Namespace) -> int:
    from skill import grammar

    settings = Settings.from_env()
    stale = 0
    answers = grammar.compile_answers()
    if not args.check:
        grammar.ANSWERS_FILE.write_text(answers, encoding="utf-8")
    elif grammar.ANSWERS_FILE.read_text(encoding="utf-8") != answers:
        stale += 1
        print(f"hip-helper: {grammar.ANSWERS_FILE.name} differs from its grammar source: run `make model`",
              file=sys.stderr)
    for locale in args.locale or grammar.locales():
        try:
            source = grammar.load(locale=locale)
            generated = source.to_model(grammar.content_prompt(settings.content_dir, locale))
        except grammar.GrammarError as error:
            print(f"hip-helper: grammar ({locale}): {error}", file=sys.stderr)
            return 2
        print(f"{locale}:")
        for intent, count in source.sample_counts().items():
            print(f"{count:6d}  {intent}")
        text = grammar.render(generated)
        target = settings.model_dir / f"{locale}.json"
        print(f"{len(text.encode()):,} bytes  {target.name}")
        if not args.check:
            target.write_text(text, encoding="utf-8")
            continue
        committed = target.read_text(encoding="utf-8") if target.exists() else ""
        if committed != text:
            stale += 1
            old = json.loads(committed) if committed else {}
            for line in grammar.diff_summary(old, generated):
                print(f"stale ({locale}): {line}", file=sys.stderr)
            print(f"hip-helper: {target.name} differs from its grammar source: run `make model`", file=sys.stderr)
    return 1 if stale else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hip-helper", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the skill endpoint (production unless --dev)")
    serve_parser.add_argument("--dev", action="store_true",
                              help="development mode: no signature check, loopback only")
    serve_parser.add_argument("--host", help="dev: 127.0.0.1; production: the bind in deploy/gunicorn.conf.py")
    serve_parser.add_argument("--port", type=int, help="dev: 5000; production: 8080")
    serve_parser.set_defaults(run=serve)

    graph_parser = commands.add_parser("triage-graph", help="print the triage decision table as Mermaid")
    graph_parser.set_defaults(run=triage_graph)
    model_parser = commands.add_parser("build-model", help="expand interaction_model/source into <locale>.json, "
                                                           "one per layer in source/locales/")
    model_parser.add_argument("--locale", action="append", metavar="LOCALE",
                              help="only this locale (repeatable); default: every locale")
    model_parser.add_argument("--check", action="store_true",
                              help="write nothing; exit 1 when the committed model differs from the source")
    model_parser.set_defaults(run=build_model)
    register_simulator(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        logging.basicConfig(level=Settings.from_env().log_level, format="%(message)s")
        return args.run(args)
    except (SettingsError, ContentError) as error:
        print(f"hip-helper: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Piped into `head` or similar: the reader left; nothing to report.
        sys.stderr.close()
        return 0
