"""The `chat`, `check-model` and `evaluate-nlu` subcommands of `hip-helper`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skill.settings import PROJECT_ROOT, Settings, SettingsError
from skill.simulator.chat import EXIT_USAGE, ChatOptions, run_chat
from skill.simulator.check_model import SkillFeatures, default_files, run_check_model
from skill.simulator.evaluate import MATCHERS, run_evaluate_nlu


def chat_command(args: argparse.Namespace) -> int:
    options = ChatOptions(
        url=args.url, locale=args.locale, skill_id=args.skill_id, user_id=args.user_id,
        api_endpoint=args.api_endpoint, model=args.model, replay=args.replay, record=args.record,
        verbose=args.verbose, speak=args.speak, screen=args.screen,
    )
    return run_chat(options)


def check_model_command(args: argparse.Namespace) -> int:
    try:
        model_dir = Settings.from_env().model_dir
    except SettingsError as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_USAGE
    features = SkillFeatures.detect(PROJECT_ROOT / "skill")
    if args.locale and args.files:
        sys.stderr.write("error: give either FILE... or --locale, not both\n")
        return EXIT_USAGE
    return run_check_model(args.files or default_files(model_dir, args.locale), features, model_dir, sys.stdout,
                           args.locale)


def evaluate_nlu_command(args: argparse.Namespace) -> int:
    return run_evaluate_nlu(args.files, args.model, args.matcher, args.min_accuracy, sys.stdout, sys.stderr,
                            locale=args.locale)


def _add_chat(subparsers: argparse._SubParsersAction) -> None:
    chat = subparsers.add_parser(
        "chat", help="talk to the skill like the Alexa developer console, offline",
        description="Type what you would say to Alexa (\"open hip helper\", \"yes\", \"stop\"). "
                    "An empty line or .silence is saying nothing; .quit or end of input leaves.",
    )
    chat.add_argument("--url", help="POST to a running skill (e.g. http://127.0.0.1:5000/alexa) "
                                    "instead of loading it in-process")
    chat.add_argument("--locale", help="request locale (default: the replay file's, else en-US)")
    chat.add_argument("--skill-id", help="applicationId to send (default: the replay file's, else the dev id)")
    chat.add_argument("--user-id", help="userId to send")
    chat.add_argument("--api-endpoint", help="Alexa API endpoint (context.System.apiEndpoint) for reminders and "
                                             "settings; default in-process: a local stand-in, so they work offline")
    chat.add_argument("--model", type=Path, help="interaction model JSON (default: the model dir's <locale>.json)")
    chat.add_argument("--replay", type=Path, metavar="FILE", help="replay an `ask dialog` replay file first")
    chat.add_argument("--record", type=Path, metavar="FILE", help="write what was typed as an `ask dialog` replay file")
    chat.add_argument("--verbose", action="store_true", help="show the matched intent, slots and raw JSON")
    chat.add_argument("--speak", action="store_true", help="read answers aloud with espeak-ng")
    chat.add_argument("--screen", action="store_true", help="simulate a device with a screen (APL)")
    chat.set_defaults(run=chat_command)


def _add_check_model(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser(
        "check-model", help="check interaction models and the skill manifest against Alexa's build rules",
        description="With no FILE, checks every interaction_model/*.json and deploy/skill-package/skill.json; "
                    "--locale X checks X's model and the manifest's X entries.",
    )
    check.add_argument("files", nargs="*", type=Path, metavar="FILE")
    check.add_argument("--locale", metavar="LOCALE", help="only this locale's model and manifest entries (e.g. en-GB)")
    check.set_defaults(run=check_model_command)


def _add_evaluate_nlu(subparsers: argparse._SubParsersAction) -> None:
    evaluate = subparsers.add_parser(
        "evaluate-nlu", help="score an NLU annotation set against the interaction model, offline",
        description="FILE is an annotation set in the format of Amazon's NLU Evaluation tool (CSV or JSON). "
                    "Prints accuracy per intent, overall, the most confused intents and every miss.",
    )
    evaluate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    evaluate.add_argument("--matcher", choices=sorted(MATCHERS), default="exact",
                          help="exact: the samples only; simulator: what `hip-helper chat` hears, the samples "
                               "then the generalisation stage; statistical: a TF-IDF classifier trained on the "
                               "samples (scikit-learn). Both generalisers approximate Alexa, they are not Alexa")
    evaluate.add_argument("--locale", default="en-US", help="whose model to score against (default: en-US)")
    evaluate.add_argument("--model", type=Path, help="interaction model JSON (default: the model dir's <locale>.json)")
    evaluate.add_argument("--min-accuracy", type=float, metavar="X",
                          help="exit 1 when overall accuracy is below X (a fraction, e.g. 0.9)")
    evaluate.set_defaults(run=evaluate_nlu_command)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `chat`, `check-model` and `evaluate-nlu`; each sets `run`, a function of the parsed args
    returning the exit code."""
    _add_chat(subparsers)
    _add_check_model(subparsers)
    _add_evaluate_nlu(subparsers)
