"""`eq demo [--out DIR] [--quick]`."""

from __future__ import annotations

import os


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the whole chain on generated data and write report.html")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, about a minute on 2 CPU cores")
    p.add_argument("--data", default=os.environ.get("EQ_DEMO_DATA"),
                   help="real data in the dataset layout instead of generated samples "
                        "(default: $EQ_DEMO_DATA)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs-dir", default=None, help="where run records go")
    p.set_defaults(handler=_demo)


def _demo(args) -> int:
    import time

    from ..demo import demo_config, run_demo
    from ..events import StageStarted

    config = demo_config(quick=args.quick, seed=args.seed, device=args.device, data=args.data)
    start = time.perf_counter()

    def show(event) -> None:
        if isinstance(event, StageStarted) and event.stage == "demo":
            print(f"[{time.perf_counter() - start:6.1f} s] {event.message}", flush=True)

    result = run_demo(args.out, config, runs_dir=args.runs_dir, on_event=show)
    pooled = result.evaluation.aggregates["pooled"]
    print(f"held-out glomeruli: pooled Dice {pooled['dice']:.3f}, IoU {pooled['iou']:.3f}")
    print(f"transfer vs scratch:\n{result.transfer.table_text}")
    print(f"report: {result.report.resolve()}  ({result.timings['total']:.0f} s)")
    return 0
