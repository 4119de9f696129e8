"""Encoder transfer: a mitochondria (EM) model's encoder starts a glomeruli (histology) U-Net.

``copy_encoder`` copies the encoder tensors of the base model into the new U-Net, matched by
name and shape: its stem and the first ``copy_stages`` ResNet stages (all four by default). The
later stages, the decoder and the head stay freshly initialised. Channels: EM models have 1 input
channel and histology models 3, so the first convolution is *adapted*, not skipped:
1 -> 3 replicates the gray kernel over R, G and B divided by 3 (an RGB image whose channels are
equal then gives exactly the base model's response), 3 -> 1 sums the kernel over RGB. The
:class:`~eq_engine.training.results.CopyReport` lists what was copied, adapted and skipped, and
why. Anything else that does not match refuses the transfer with a ModelError; EQ never falls
back to training from scratch silently.

``transfer_train`` then fine-tunes in two stages: ``freeze_epochs`` with the encoder frozen
(decoder/head learn; BatchNorm layers stay trainable), then ``unfreeze_epochs`` with
discriminative learning rates ``slice(lr / lr_divisor, lr)``. With ``compare_scratch`` the same
architecture is trained from random init on the same split, seed and total number of epochs
(one stage at ``lr``), and a side-by-side table answers "did pretraining help?".
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..config import TransferConfig
from ..errors import ModelError
from ..io.model_info import ModelInfo
from ..models.unet import ARCHS, ENCODER_STAGES, FIRST_CONV_KEY, encoder_keys, encoder_stage
from .results import CopyReport, TransferResult, comparison_table


def adapt_first_conv(weight, in_channels: int):
    """The first-conv kernel for ``in_channels`` inputs: 1->3 replicate / 3, 3->1 sum."""
    have = int(weight.shape[1])
    if have == in_channels:
        return weight.clone()
    if have == 1 and in_channels == 3:
        return weight.repeat(1, 3, 1, 1) / 3
    if have == 3 and in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    raise ModelError(f"cannot adapt a first convolution from {have} to {in_channels} channels")


def copy_encoder(base_state: dict, model: Any, *, base_name: str = "",
                 stages: int = ENCODER_STAGES) -> CopyReport:
    """Copy the encoder tensors of ``base_state`` into ``model`` (in place): the stem and the
    first ``stages`` ResNet stages; see module doc.

    Raises ModelError naming the tensors when the base encoder does not match the model's.
    """
    target = model.state_dict()
    encoder = encoder_keys(target)
    wanted = [k for k in encoder if encoder_stage(k) <= stages]
    report = CopyReport(base_model=base_name)
    new, missing, wrong = {}, [], []
    for key in wanted:
        if key not in base_state:
            missing.append(key)
            continue
        src, dst = base_state[key], target[key]
        if tuple(src.shape) == tuple(dst.shape):
            new[key] = src.detach().clone()
            report.copied.append(key)
        elif key == FIRST_CONV_KEY and src.ndim == 4 and src.shape[0] == dst.shape[0] \
                and src.shape[2:] == dst.shape[2:]:
            new[key] = adapt_first_conv(src, int(dst.shape[1]))
            how = "replicated over RGB / 3" if dst.shape[1] == 3 else "summed over RGB"
            report.adapted.append({"name": key, "from": list(src.shape), "to": list(dst.shape),
                                   "how": how})
        else:
            wrong.append(f"{key} {tuple(src.shape)} vs {tuple(dst.shape)}")
    if missing or wrong:
        raise ModelError(
            f"the encoder of {base_name or 'the base model'} does not match the new U-Net: "
            f"{len(missing)} tensors missing ({missing[:3]}), {len(wrong)} of another shape "
            f"({wrong[:3]}); transfer needs a base model of the same architecture")
    wanted_set, encoder_set = set(wanted), set(encoder)
    for key in base_state:
        if key in wanted_set:
            continue
        reason = (f"encoder stage past copy_stages={stages}, re-initialised"
                  if key in encoder_set else "decoder/head, re-initialised for the new task")
        report.skipped.append({"name": key, "reason": reason})
    model.load_state_dict({**target, **new})
    return report


def check_base_model(info: ModelInfo, path: str | os.PathLike) -> None:
    """ModelError unless ``info`` describes a 2-class EQ segmentation U-Net."""
    if info.arch not in ARCHS or info.n_classes != 2:
        raise ModelError(f"{path} is not an EQ segmentation U-Net (arch {info.arch!r}, "
                         f"{info.n_classes!r} classes); give a model trained with `eq train`")


def _parent_record(path: Path, info: ModelInfo) -> dict:
    from ..runs import file_sha256

    return {"path": str(path), "sha256": file_sha256(path), "task": info.task,
            "arch": info.arch, "in_channels": info.in_channels,
            "created": info.created or None, "metrics": dict(info.metrics)}


def _load_base(config: TransferConfig) -> tuple[dict, ModelInfo, Path]:
    """The base model's weights and description, checked against the train config's arch."""
    from ..io.models import load_weights

    base_path = Path(config.base_model)
    base_state, meta = load_weights(base_path)
    base = ModelInfo.from_metadata(meta)
    check_base_model(base, base_path)
    if config.train.arch not in ("auto", base.arch):
        raise ModelError(f"{base_path} is a {base.arch} model but arch={config.train.arch!r} "
                         "was asked; transfer needs the same architecture (use arch='auto')")
    return base_state, base, base_path


def transfer_train(data: Any, config: TransferConfig, *, out: str | os.PathLike | None = None,
                   overwrite: bool = False, on_event=None, cancel=None) -> TransferResult:
    """Transfer ``config.base_model``'s encoder and fine-tune on ``data``; see module doc.

    With ``compare_scratch`` the baseline is written next to ``out`` as ``<stem>_scratch<ext>``.
    Outputs are written as :func:`eq_engine.training.train` writes them (existing files need
    ``overwrite=True``; checkpoints go to temporary files).
    """
    from .output import training_outputs

    out_path = Path(out) if out else None
    scratch_out = (out_path.with_name(f"{out_path.stem}_scratch{out_path.suffix}")
                   if out_path and config.compare_scratch else None)
    with training_outputs([out_path, scratch_out], overwrite=overwrite) as temps:
        return _transfer_train(data, config, outs=(out_path, scratch_out), temps=temps,
                               on_event=on_event, cancel=cancel)


def _transfer_train(data: Any, config: TransferConfig, *, outs, temps, on_event,
                    cancel) -> TransferResult:
    from ..device import pick_device
    from ..events import StageStarted, check_cancel, emit
    from ..models.unet import build_unet
    from .callbacks import RunLog
    from .trainer import (
        Session,
        Stage,
        fit_stages,
        prepare_session_data,
        recipe_for,
        resolve_settings,
        seed_everything,
    )

    started = time.perf_counter()
    base_state, base, base_path = _load_base(config)
    device = pick_device(config.train.device)
    tcfg, recipe = recipe_for(data, config.train.replace(arch=base.arch), device)
    resolved = resolve_settings(tcfg, device)
    emit(on_event, StageStarted("prepare", "reading and normalising training data"))
    prepared = prepare_session_data(data, tcfg, resolved)
    check_cancel(cancel)

    seed_everything(tcfg.seed)
    model = build_unet(resolved.arch, in_channels=prepared.in_channels)
    report = copy_encoder(base_state, model, base_name=str(base_path), stages=config.copy_stages)
    extra = {"transfer": {"freeze_epochs": config.freeze_epochs,
                          "unfreeze_epochs": config.unfreeze_epochs,
                          "lr_divisor": config.lr_divisor, "copy_stages": config.copy_stages,
                          "copied": len(report.copied),
                          "adapted": report.adapted, "skipped": len(report.skipped)}, **recipe}
    out_path, scratch_out = outs
    session = Session(tcfg, resolved, prepared, model, RunLog(), out_path,
                      Path(tcfg.checkpoint_path) if tcfg.checkpoint_path else temps[0],
                      on_event, cancel, parent=_parent_record(base_path, base),
                      extra_meta=extra, started=started, name="transfer",
                      pretrained_stages=config.copy_stages)
    lr = tcfg.lr
    transfer = fit_stages(session, [Stage("freeze", config.freeze_epochs, lr, frozen=True),
                                    Stage("unfreeze", config.unfreeze_epochs,
                                          slice(lr / config.lr_divisor, lr))])
    scratch = None
    if config.compare_scratch and not transfer.cancelled:
        seed_everything(tcfg.seed)  # same init stream, crops and shuffles as the transfer run
        scratch_model = build_unet(resolved.arch, in_channels=prepared.in_channels)
        scratch_session = Session(tcfg, resolved, prepared, scratch_model, RunLog(), scratch_out,
                                  temps[1], on_event, cancel, name="scratch",
                                  extra_meta={"baseline_for": str(out_path or "transfer"), **recipe})
        epochs = config.freeze_epochs + config.unfreeze_epochs
        scratch = fit_stages(scratch_session, [Stage("scratch", epochs, lr)])
    rows, text = comparison_table(transfer.history, scratch.history if scratch else None,
                                  (transfer.best, scratch.best if scratch else None))
    return TransferResult(transfer, scratch, report, rows, text)
