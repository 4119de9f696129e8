"""``eq export MODEL --bioimageio OUT.zip``: share a model as a bioimage.io package."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export a model for other tools (bioimage.io model package)",
        description="Write MODEL as a bioimage.io model package (rdf.yaml, pytorch_state_dict "
        "with its architecture source, TorchScript, test tensors computed by EQ, cover, README) "
        "that bioimageio.core, deepImageJ, ilastik and QuPath can run.")
    p.add_argument("model", help="EQ model file (.eqm)")
    p.add_argument("--bioimageio", required=True, metavar="OUT.zip", help="package to write")
    p.add_argument("--name", default=None, help="model name in the package")
    p.add_argument("--description", default=None, help="one-line description")
    p.add_argument("--author", action="append", default=None,
                   help="author name (repeat for several; default 'EQ contributors')")
    p.add_argument("--license", default="CC-BY-4.0", help="SPDX licence of the weights")
    p.add_argument("--test-size", type=int, default=None,
                   help="side of the test tensors in px (multiple of 32; default: the tile)")
    p.add_argument("--no-torchscript", action="store_true", help="state dict weights only")
    p.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from ..export.bioimageio import export_bioimageio

    path = export_bioimageio(args.model, args.bioimageio, name=args.name,
                             description=args.description,
                             authors=tuple(args.author or ("EQ contributors",)),
                             license=args.license, test_size=args.test_size,
                             torchscript=not args.no_torchscript)
    print(f"bioimage.io package: {path}")
    print("check it with: bioimageio test " + str(path))
    return 0
