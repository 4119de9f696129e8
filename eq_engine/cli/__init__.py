"""The ``eq`` command line: argument parsing -> config -> public engine call. Nothing else.

Each sub-module defines ``register(subparsers)``, adding its commands; a command's handler takes
the parsed namespace and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..errors import EngineError

# Sub-modules that add commands, in the order `eq --help` lists them.
COMMAND_MODULES = ("data", "train", "cv", "predict", "evaluate", "quantify", "runs", "demo", "gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eq",
        description="EQ: segment mitochondria and glomeruli with scarce annotations, "
        "transfer encoders, evaluate, and quantify endotheliosis.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def usage(parser: argparse.ArgumentParser) -> int:
    """Print ``parser``'s help; exit code 2 (a command given without its action)."""
    parser.print_help()
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2), format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "handler", None):
        return usage(parser)
    try:
        return int(args.handler(args) or 0)
    except EngineError as exc:
        print(f"eq: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("eq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
