"""``eq train mito DATASET... --out FILE`` and ``eq train glomeruli DATASET... [--base FILE] --out FILE``."""

from __future__ import annotations

import argparse
import logging

from . import usage
from .progress import ProgressBar, format_float
from .runs import cli_run

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    train = subparsers.add_parser(
        "train", help="train a mitochondria or glomeruli model",
        description="Train segmentation U-Nets. 'mito' pretrains on EM mitochondria; "
        "'glomeruli' trains on histology, from random init or from a mito model's encoder.")
    actions = train.add_subparsers(dest="train_command", metavar="ACTION")
    train.set_defaults(handler=lambda args: usage(train))

    mito = actions.add_parser("mito", help="train a mitochondria (EM) model",
                              description="Train a U-Net on EM mitochondria datasets.")
    mito.add_argument("datasets", nargs="+", metavar="DATASET", help="dataset folder(s)")
    mito.add_argument("--resume", default=None, metavar="FILE",
                      help="continue training this EQ model file (epochs keep counting)")
    _common(mito, task="mitochondria")
    mito.set_defaults(handler=_mito)

    glom = actions.add_parser(
        "glomeruli", help="train a glomeruli model, from scratch or from a mito model",
        description="Without --base, train a glomeruli U-Net from random init (10 epochs). "
        "With --base, copy the encoder of a mitochondria model into a new U-Net and "
        "fine-tune it: stage 1 with the encoder frozen, stage 2 unfrozen with "
        "discriminative learning rates; --compare-scratch also trains from random init.")
    glom.add_argument("datasets", nargs="+", metavar="DATASET", help="dataset folder(s)")
    glom.add_argument("--base", default=None, metavar="FILE",
                      help="mitochondria EQ model file to transfer (default: train from scratch)")
    glom.add_argument("--compare-scratch", action="store_true",
                      help="with --base: also train from scratch on the same split and print both")
    add_stage_options(glom)
    _common(glom, task="glomeruli")
    glom.set_defaults(handler=_glomeruli)


def _common(p: argparse.ArgumentParser, *, task: str) -> None:
    p.add_argument("--out", required=True, metavar="FILE",
                   help="model file to write (.eqm); written once, when the run ends")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out (kept until the new run finishes or is cancelled)")
    add_train_options(p, task=task)


def add_train_options(p: argparse.ArgumentParser, *, task: str) -> None:
    """The training options shared by ``eq train`` and ``eq cv`` (all but ``--out``)."""
    from ..config import TrainConfig

    default = f"epochs (default {TrainConfig.epochs}"
    p.add_argument("--epochs", type=int, default=None,
                   help=f"{default})" if task == "mitochondria"
                   else f"{default}; with --base, both stages: freeze + unfreeze)")
    p.add_argument("--arch", default="auto", help="resnet18|resnet34|resnet50 (default: by device)")
    p.add_argument("--size", type=int, default=0, help="crop size in px, multiple of 32 (default: by device)")
    p.add_argument("--scale", type=_scale, default=0.0, metavar="auto|FACTOR",
                   help="resize images by this factor first, e.g. 0.25 for 20x H&E; 'auto' "
                   "(default) makes the median training object 64 px across, never upsampling")
    p.add_argument("--batch-size", type=int, default=0, help="batch size (default: by device)")
    p.add_argument("--lr", type=float, default=1e-3, help="maximum learning rate (default 1e-3)")
    p.add_argument("--loss", default="ce_dice", help="ce|dice|ce_dice|focal|tversky (default ce_dice)")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N|mps (default auto)")
    p.add_argument("--group-pattern", default=None, metavar="REGEX",
                   help=r"regex whose first group names an image's subject, e.g. '^(T\d+)_'; "
                   "the validation split then never shares a subject with training")
    p.add_argument("--valid-pattern", default=None, metavar="REGEX",
                   help="regex naming the validation images explicitly, e.g. '^validation_'")
    p.add_argument("--valid-fraction", type=float, default=0.2, help="validation share (default 0.2)")
    p.add_argument("--crops-per-image", type=int, default=0,
                   help="random crops per image and epoch (default 0, auto: half of a median "
                   "training image's area at the model's scale, at least 8)")
    p.add_argument("--positive-fraction", type=float, default=0.5,
                   help="share of crops centred on foreground (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--weights", default=None, metavar="FILE",
                   help="local torchvision ResNet weights for the encoder (never downloaded)")
    p.add_argument("--no-augment", action="store_true", help="train without augmentation")
    p.add_argument("--scale-jitter", type=float, default=TrainConfig.scale_jitter, metavar="F",
                   help="zoom augmentation factors in [1/F, F] (default %(default)s; 1: none)")
    p.add_argument("--full-precision", action="store_true",
                   help="train in float32 on CUDA too (default: float16 mixed precision there; "
                   "CPUs always train in float32)")


def _scale(text: str) -> float:
    if text.strip().lower() == "auto":
        return 0.0
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give 'auto' or a factor such as 0.25") from None


def train_config(args: argparse.Namespace, task: str, epochs: int):
    from ..config import TrainConfig

    return TrainConfig(task=task, arch=args.arch, size=args.size, scale=args.scale,
                       batch_size=args.batch_size, epochs=epochs, lr=args.lr, loss=args.loss,
                       device=args.device, group_pattern=args.group_pattern,
                       valid_pattern=args.valid_pattern,
                       valid_fraction=args.valid_fraction, crops_per_image=args.crops_per_image,
                       positive_fraction=args.positive_fraction, seed=args.seed,
                       pretrained_weights=args.weights, augment=not args.no_augment,
                       scale_jitter=args.scale_jitter, mixed_precision=not args.full_precision)


def quiet_library_warnings() -> None:
    import warnings

    # fastai triggers torch's torch.jit.script deprecation notice on import; not actionable
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)


def _mito(args: argparse.Namespace) -> int:
    return _from_scratch(args, "mitochondria", "mitochondria model", resume=args.resume)


def _from_scratch(args: argparse.Namespace, task: str, what: str, *, resume: str | None) -> int:
    from ..config import TrainConfig
    from ..training import train

    quiet_library_warnings()
    config = train_config(args, task, args.epochs or TrainConfig.epochs)
    with cli_run("train", config, inputs=args.datasets,
                 models=[("resumed_from", resume)]) as run:
        with ProgressBar("batch", epochs=[config.epochs], stages=True) as on_event:
            result = train(args.datasets, config, out=args.out, resume_from=resume,
                           overwrite=args.overwrite, on_event=on_event)
        _print_result(what, result)
        run.add_training(result)
    return 0


def add_stage_options(p: argparse.ArgumentParser) -> None:
    """``--freeze-epochs``, ``--unfreeze-epochs``, ``--lr-divisor`` and ``--copy-stages``,
    defaults from TransferConfig."""
    from ..config import TransferConfig as T

    p.add_argument("--freeze-epochs", type=int, default=None,
                   help=f"with --base: stage 1 epochs, encoder frozen (default {T.freeze_epochs})")
    p.add_argument("--unfreeze-epochs", type=int, default=None,
                   help=f"with --base: stage 2 epochs, encoder unfrozen (default "
                   f"{T.unfreeze_epochs}, or --epochs minus stage 1)")
    p.add_argument("--lr-divisor", type=float, default=T.lr_divisor,
                   help="with --base: stage 2 encoder learning rate is lr / this "
                   f"(default {T.lr_divisor:g})")
    p.add_argument("--copy-stages", type=int, default=T.copy_stages, metavar="N",
                   help="with --base: copy the base encoder's stem and its first N of 4 ResNet "
                   f"stages; the rest start random (default {T.copy_stages})")


def stage_epochs(args: argparse.Namespace) -> tuple[int, int]:
    """(freeze, unfreeze) epochs from the options; --epochs alone sets the total."""
    from ..config import TransferConfig as T

    freeze = T.freeze_epochs if args.freeze_epochs is None else args.freeze_epochs
    if args.unfreeze_epochs is not None:
        return freeze, args.unfreeze_epochs
    if args.epochs is not None:
        freeze = min(freeze, args.epochs)
        return freeze, args.epochs - freeze
    return freeze, T.unfreeze_epochs


def _glomeruli(args: argparse.Namespace) -> int:
    from ..config import TransferConfig
    from ..training.transfer import transfer_train

    if args.base is None:
        if args.compare_scratch or args.freeze_epochs is not None or args.unfreeze_epochs is not None:
            from ..errors import ConfigError

            raise ConfigError("--compare-scratch, --freeze-epochs and --unfreeze-epochs need "
                              "--base FILE (without it, glomeruli train from scratch)")
        return _from_scratch(args, "glomeruli", "glomeruli model (scratch)", resume=None)
    quiet_library_warnings()
    freeze, unfreeze = stage_epochs(args)
    train_cfg = train_config(args, "glomeruli", max(1, freeze + unfreeze))
    config = TransferConfig(base_model=args.base, train=train_cfg, freeze_epochs=freeze,
                            unfreeze_epochs=unfreeze, lr_divisor=args.lr_divisor,
                            copy_stages=args.copy_stages, compare_scratch=args.compare_scratch)
    phases = [freeze + unfreeze] * (2 if args.compare_scratch else 1)
    with cli_run("transfer", config, inputs=args.datasets, models=[("base", args.base)]) as run:
        with ProgressBar("batch", epochs=phases, stages=True) as on_event:
            result = transfer_train(args.datasets, config, out=args.out,
                                    overwrite=args.overwrite, on_event=on_event)
        print(result.copy_report.summary())
        _print_result("glomeruli model (transfer)", result.transfer)
        if result.scratch is not None:
            _print_result("glomeruli model (scratch)", result.scratch)
            print("\ntransfer vs scratch (validation):")
            print(result.table_text)
        run.add_training(result.transfer)
    return 0


def _print_result(what: str, result) -> None:
    best = result.best or {}
    state = "cancelled; " if result.cancelled else ""
    print(f"{what}: {result.model_path or '(not written)'}")
    dice, iou, loss = (format_float(best.get(k)) for k in ("dice", "iou", "valid_loss"))
    print(f"  {state}best epoch {best.get('epoch', '-')}: valid Dice {dice}, IoU {iou}, "
          f"loss {loss}; {result.seconds:.0f} s on {result.device}")
