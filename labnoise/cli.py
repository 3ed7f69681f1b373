"""The ``labnoise`` command line.

    labnoise run CHAPTER --profile P [-p NAME VALUE ...] [--out DIR] [--cell-timeout S] [--start-timeout S]
    labnoise book --profile P [--cell-timeout S] [--jobs N] [--rerun]
    labnoise results collect [--from DIR] [--to DIR]
    labnoise embed --dataset cifar10 --split train --encoder efficientnet-lite0 [--flip] [--root DIR]
    labnoise data status [--root DIR]
    labnoise data import PATH [PATH ...] [--root DIR]
    labnoise chapters
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .profiles import PROFILE_NAMES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labnoise", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run one chapter with papermill and write CHAPTER.ipynb + CHAPTER.results.json")
    r.add_argument("chapter", help="e.g. 02_cluster_based_noise (or a unique prefix such as 02)")
    r.add_argument("--profile", default="smoke", choices=PROFILE_NAMES)
    r.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="override one chapter parameter (repeatable); VALUE is a Python/JSON literal or a string")
    r.add_argument("--out", default=None, help="output folder (default _build/runs/PROFILE)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    _cluster_options(r)
    r.add_argument("--cell-timeout", type=float, default=None, metavar="S",
                   help="fail a cell that runs longer than S seconds (default per profile: smoke 600, offline "
                        "6 h, full 48 h); a kernel that goes idle without replying fails after 30 s anyway")
    r.add_argument("--start-timeout", type=float, default=120, metavar="S",
                   help="fail if the kernel does not start within S seconds (default 120)")

    b = sub.add_parser("book", help="run every chapter, then build the HTML book (_build/html)")
    b.add_argument("--profile", default="smoke", choices=PROFILE_NAMES)
    _cluster_options(b)
    b.add_argument("--no-run", action="store_true", help="reuse the executed notebooks in _build/runs/PROFILE")
    b.add_argument("--not-strict", action="store_true", help="do not turn Sphinx warnings into errors")
    b.add_argument("--cell-timeout", type=float, default=None, metavar="S",
                   help="per-cell timeout of every chapter run (default per profile, as for run)")
    b.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="chapters run at once, each in its own process (default: $LABNOISE_BOOK_JOBS, else 2 on a "
                        "machine with two or more CPUs); 07 runs after the others, whose results it reads")
    b.add_argument("--rerun", action="store_true",
                   help="run every chapter, even those whose notebook, parameters and labnoise are unchanged "
                        "since their last run")

    rs = sub.add_parser("results", help="the committed offline results (results/offline) and their page")
    rsub = rs.add_subparsers(dest="results_command", required=True)
    rc = rsub.add_parser("collect", help="copy the latest offline runs' results.json and kept figures into "
                                         "results/offline and regenerate book/results.md")
    rc.add_argument("--from", dest="source", default=None, help="runs folder (default _build/runs/offline)")
    rc.add_argument("--to", dest="dest", default=None, help="destination (default results/offline)")

    e = sub.add_parser("embed", help="compute (or load from the cache) encoder features")
    e.add_argument("--dataset", required=True)
    e.add_argument("--split", default="train")
    e.add_argument("--encoder", required=True)
    e.add_argument("--flip", action="store_true", help="embed horizontally flipped images")
    e.add_argument("--root", default=None, help="data root (default: $LABNOISE_DATA or ~/.cache/labnoise)")
    e.add_argument("--device", default="auto")
    e.add_argument("--batch-size", type=int, default=None)

    d = sub.add_parser("data", help="list or import data files")
    dsub = d.add_subparsers(dest="data_command", required=True)
    ds = dsub.add_parser("status", help="every known file: present or missing, URL, destination")
    ds.add_argument("--root", default=None)
    di = dsub.add_parser("import", help="validate files fetched by hand and place them in the data root")
    di.add_argument("paths", nargs="+")
    di.add_argument("--root", default=None)

    sub.add_parser("chapters", help="list the chapters")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one clear message, no traceback, for the errors we raise on purpose
        from .data import DataNotFoundError
        from .runner import ChapterFailed

        if isinstance(e, (ValueError, TypeError, DataNotFoundError, ChapterFailed, FileNotFoundError,
                          RuntimeError)):
            print(f"labnoise {args.command}: error: {e}", file=sys.stderr)
            return 1
        raise


def _cluster_options(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run the chapter's independent units (grid cells, memorization chunks, detector runs) on a Dask "
                        "LocalCluster of N processes; same results as without (needs labnoise[cluster])")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="join a running Dask scheduler instead (e.g. one started with dask-jobqueue)")


def _apply_cluster_options(args) -> None:
    """The chapter's kernel inherits the environment: labnoise.parallel reads these two variables."""
    if getattr(args, "workers", None) is not None:
        if args.workers < 1:
            raise ValueError(f"--workers must be a positive integer, got {args.workers}.")
        os.environ["LABNOISE_WORKERS"] = str(args.workers)
    if getattr(args, "scheduler", None):
        os.environ["LABNOISE_SCHEDULER"] = args.scheduler


def _dispatch(args) -> int:
    _apply_cluster_options(args)
    if args.command == "run":
        from .runner import parse_value, run_chapter

        params = {name: parse_value(value) for name, value in args.parameter}
        path = run_chapter(args.chapter, args.profile, params, out_dir=args.out, progress=not args.quiet,
                           cell_timeout=args.cell_timeout, start_timeout=args.start_timeout)
        print(f"results: {path}")
        return 0
    if args.command == "book":
        from .runner import build_book

        build_book(args.profile, run=not args.no_run, strict=not args.not_strict, cell_timeout=args.cell_timeout,
                   rerun=args.rerun, jobs=args.jobs)
        return 0
    if args.command == "results":
        from . import glance
        from .runner import project_root

        dest = args.dest or glance.results_dir()
        try:
            done = glance.collect(args.source, dest)
        except FileNotFoundError as e:
            if args.source:
                raise
            print(f"nothing collected: {e}")
            done = {}
        for name, files in done.items():
            print(f"{name}: {', '.join(files)}")
        if not done:
            print("no offline chapter results found to collect")
        page = glance.write_glance_page(project_root() / "book" / "results.md", dest)
        print(f"page: {page}")
        course = project_root() / "book" / "course.md"
        if course.exists() and (Path(dest) / glance.BOOK_TIMING).exists():
            glance.refresh_course_page(course, dest)
            print(f"page: {course} (timing table)")
        return 0
    if args.command == "embed":
        from .features import embed

        x = embed(args.dataset, args.split, args.encoder, flip=args.flip, device=args.device,
                  batch_size=args.batch_size, root=args.root)
        print(f"{args.dataset}/{args.split} {args.encoder}{' (flipped)' if args.flip else ''}: "
              f"features {x.shape} {x.dtype}")
        return 0
    if args.command == "data":
        from . import data

        if args.data_command == "status":
            root = data.data_root(args.root)
            print(f"data root: {root}")
            for row in data.status(root):
                mark = "present" if row["present"] else "MISSING"
                print(f"  {mark:8s} {row['key']:24s} {row['path']}")
                if not row["present"]:
                    print(f"           from {row['url']} (md5 {row['md5']})")
            return 0
        done = data.import_files(args.paths, args.root)
        for key, dest in done:
            print(f"imported {key} -> {dest}")
        return 0
    if args.command == "chapters":
        from .runner import chapters

        print("\n".join(chapters()))
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
