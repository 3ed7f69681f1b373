"""Run independent units of work (memorization chunks, grid cells, detector seeds) in this process or on a
Dask cluster, with the same results either way.

    results = map_units(train_chunk, [(0, 50), (50, 100)])           # sequential: Dask is not imported
    results = map_units(train_chunk, units, workers=4)                 # a LocalCluster of 4 processes
    results = map_units(train_chunk, units, scheduler="tcp://host:8786")   # an existing cluster

Every unit is seeded by its own arguments (never by the order it runs in), so a cluster run returns exactly
what the sequential run returns: byte for byte where the unit itself is deterministic. Results come back in
the order of ``units``.

Where the settings come from: the keyword arguments, else ``$LABNOISE_WORKERS`` / ``$LABNOISE_SCHEDULER``
(which ``labnoise run CHAPTER --workers N`` / ``--scheduler ADDRESS`` set for the chapter's kernel), else
sequential. With neither, nothing changes and Dask is never imported.

University clusters (SLURM): start the cluster with dask-jobqueue and point labnoise at its scheduler::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=8, processes=1, memory="32GB", walltime="04:00:00",
                           job_extra_directives=["--gres=gpu:1"],           # one GPU per worker job
                           worker_extra_args=["--resources", "GPU=1"])
    cluster.scale(jobs=8)
    print(cluster.scheduler_address)    # then: labnoise run 01 --profile full --scheduler tcp://...

GPUs: give each worker ``--resources GPU=1`` (as above) and pass ``resources={"GPU": 1}`` (or set
``$LABNOISE_RESOURCES=GPU=1``): Dask then runs one task per GPU at a time. Each worker process sees its own
GPU through ``CUDA_VISIBLE_DEVICES`` as set by the job scheduler.
"""
from __future__ import annotations

import atexit
import os
from typing import Callable, Iterable

__all__ = ["map_units", "settings", "close"]

_CLIENTS: dict = {}


def settings(workers=None, scheduler=None, resources=None) -> dict:
    """The effective ``{"workers", "scheduler", "resources"}`` from the arguments or the environment."""
    if workers is None and os.environ.get("LABNOISE_WORKERS"):
        workers = os.environ["LABNOISE_WORKERS"]
    if scheduler is None and os.environ.get("LABNOISE_SCHEDULER"):
        scheduler = os.environ["LABNOISE_SCHEDULER"]
    if resources is None and os.environ.get("LABNOISE_RESOURCES"):
        resources = dict(_parse_resource(r) for r in os.environ["LABNOISE_RESOURCES"].split(","))
    if workers is not None:
        from ._validation import check_positive_int

        workers = check_positive_int(workers, name="workers")
    if workers is not None and scheduler is not None:
        raise ValueError("give workers (start a local cluster) or scheduler (join one), not both.")
    return {"workers": workers, "scheduler": scheduler, "resources": resources}


def _parse_resource(text: str):
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise ValueError(f"LABNOISE_RESOURCES entries look like GPU=1, got {text!r}.") from None


def _client(workers, scheduler):
    key = (workers, scheduler)
    if key in _CLIENTS:
        return _CLIENTS[key]
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("parallel runs need Dask: pip install 'labnoise[cluster]' (distributed, "
                          "dask-jobqueue); or run without --workers/--scheduler.") from None
    if scheduler is not None:
        client = Client(scheduler)
    else:
        # one thread per process: the units are torch/numpy work that threads on their own
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    _CLIENTS[key] = client
    return client


def close() -> None:
    """Close the clusters this process started (called at exit)."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        cluster = getattr(client, "cluster", None)
        try:
            client.close()
            if cluster is not None:
                cluster.close()
        except Exception:  # pragma: no cover - shutting down anyway
            pass


atexit.register(close)


def _call(fn, args):
    return fn(*args)


def map_units(fn: Callable, units: Iterable, *, workers=None, scheduler=None, resources=None,
              desc: str = "units", progress: bool = False) -> list:
    """``[fn(*u) for u in units]``, in this process or on a Dask cluster; results in the order of ``units``.

    Parameters
    ----------
    fn : callable
        Module-level function or any cloudpickle-able callable. On a cluster it is sent once to each worker
        (with whatever arrays it closes over), not once per unit.
    units : iterable of tuples
        The arguments of each call (a non-tuple is passed as the single argument).
    workers : int, optional
        Start (once per process) a ``LocalCluster`` of this many worker processes.
    scheduler : str, optional
        Address of a running Dask scheduler to join (e.g. from dask-jobqueue's ``SLURMCluster``).
    resources : dict, optional
        Dask resources each unit needs, e.g. ``{"GPU": 1}``.
    desc, progress : a tqdm bar over finished units.

    Without workers or a scheduler the units run here, in order:

    >>> map_units(pow, [(2, 3), (3, 2)])
    [8, 9]
    """
    units = [u if isinstance(u, tuple) else (u,) for u in units]
    cfg = settings(workers, scheduler, resources)
    from tqdm.auto import tqdm

    if cfg["workers"] is None and cfg["scheduler"] is None:
        out = []
        for u in tqdm(units, desc=desc, disable=not progress):
            out.append(fn(*u))
        return out
    client = _client(cfg["workers"], cfg["scheduler"])
    [fn_remote] = client.scatter([fn], broadcast=True, hash=False)
    futures = [client.submit(_call, fn_remote, u, pure=False, resources=cfg["resources"]) for u in units]
    from distributed import as_completed

    bar = tqdm(total=len(futures), desc=f"{desc} (dask)", disable=not progress)
    for _ in as_completed(futures):
        bar.update(1)
    bar.close()
    return client.gather(futures)
