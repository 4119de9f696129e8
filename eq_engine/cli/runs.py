"""`eq runs list|show|compare`."""

from __future__ import annotations

import contextlib
import json
import sys


def register(sub) -> None:
    p = sub.add_parser("runs", help="list, show and compare run records")
    p.add_argument("--dir", default=None, help="runs folder (default: $EQ_RUNS_DIR or the user data dir)")
    rs = p.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    ls = rs.add_parser("list", help="list runs, newest first")
    ls.add_argument("--kind", default=None, help="only runs of this kind (train, predict, ...)")
    ls.set_defaults(handler=_list)
    show = rs.add_parser("show", help="print one run record as JSON")
    show.add_argument("id", help="run id or unique prefix")
    show.set_defaults(handler=_show)
    cmp_ = rs.add_parser("compare", help="compare two runs: metrics table and curves PNG")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    cmp_.add_argument("--png", default=None, help="where to write the curves (default: runs folder)")
    cmp_.set_defaults(handler=_compare)


def _list(args) -> int:
    from ..runs import list_runs, runs_dir

    records = list_runs(args.dir, kind=args.kind)
    if not records:
        print(f"no runs in {runs_dir(args.dir)}")
        return 0
    for r in records:
        headline = ", ".join(f"{k}={v:.3f}" for k, v in r.metrics.items() if isinstance(v, float))[:70]
        state = "" if r.status == "finished" else f"[{r.status}] "  # running: never finished
        print(f"{r.id:40s} {r.created:26s} {state}{headline}")
    return 0


def _show(args) -> int:
    from ..runs import load_run

    print(json.dumps(load_run(args.id, args.dir).to_dict(), indent=2))
    return 0


def _compare(args) -> int:
    from ..run_compare import compare_runs
    from ..runs import load_run, runs_dir

    a, b = load_run(args.a, args.dir), load_run(args.b, args.dir)
    png = args.png or runs_dir(args.dir) / f"compare_{a.id}_{b.id}.png"
    result = compare_runs(a, b, plot=png)
    print(result.table())
    print(f"curves: {result.plot}")
    return 0


@contextlib.contextmanager
def cli_run(kind: str, config, **kwargs):
    """:func:`eq_engine.runs.recorded_run` for a command; prints where the record went.

    A run record is a by-product: failing to write it warns and never fails the command.
    """
    from ..runs import recorded_run

    with recorded_run(kind, config, **kwargs) as run:
        yield run
    if run.path is not None:
        print(f"run record: {run.path}")
    else:
        print(f"eq: warning: could not save the run record ({run.save_error})", file=sys.stderr)
