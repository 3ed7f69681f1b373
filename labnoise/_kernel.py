"""A papermill engine whose every wait is bounded: the ``labnoise`` engine used by :mod:`labnoise.runner`.

papermill (through nbclient) waits for a cell's ``execute_reply`` forever by default, so a reply that never
comes stalls a run with both processes idle (nteract/papermill#711 and #705, jupyter/jupyter_client#922). The
likeliest cause here is ipykernel 7's shell-channel thread: it sent replies raw on the shell ROUTER socket, which
can consume the socket's edge-triggered wake-up so that a request arriving at that moment is never read (the
kernel sits idle, the client waits; ipython/ipykernel#1554, fixed by #1529 in the 7.4 line this project
installs; the same hang as microsoft/vscode-jupyter#17228). This engine

* bounds each cell by ``cell_timeout`` seconds (then interrupts the kernel, shuts it down, and raises
  :class:`CellStalled`);
* runs a watchdog while it waits for a reply, raising :class:`CellStalled` long before the cell timeout when
  the kernel published ``status: idle`` for the cell but no reply came within ``stall_grace`` seconds (a lost
  reply); or it answered a ``kernel_info_request`` sent on the shell channel behind the cell (after
  ``probe_interval`` seconds; the main shell answers requests in order, so the cell's reply was lost; the probe
  also wakes a stranded request); or it published nothing at all for the cell within ``start_grace`` seconds
  (the request was never read);
* notices a dead kernel within about a second (nbclient's liveness poll) and raises :class:`KernelDied`;
* bounds kernel start-up (``start_timeout``) and the replies outside cells (papermill's final ``kernel_info``,
  the hang of papermill#711: logged and skipped after ``final_reply_timeout`` seconds);
* starts the kernel over IPC (unix sockets in a private temporary folder) instead of unencrypted TCP (no
  "Kernel is running over TCP without encryption" warning), sends the kernel process's own stdout/stderr
  (not cell output) to a log that :func:`noise_free` filters, and turns off tqdm's monitor thread in the
  kernel before the first cell.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from queue import Empty

from nbclient.client import timestamp
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args
from traitlets import Float

#: Lines on the kernel's stderr that are not ours and say nothing about the chapter.
NOISE = ("Kernel is running over TCP without encryption", "All communication (including code and outputs)",
         "and is susceptible to eavesdropping", "Use IPC transport or launch with kernel manager",
         "CurveZMQ keys to enable transport encryption", "KeyboardInterrupt caught in kernel",
         "To connect another client to this kernel", "--existing kernel-")

#: Run silently in the kernel before the first cell: no tqdm monitor thread (it can hold the GIL and the
#: output lock at the wrong moment, and a notebook never needs it); and with ``$TQDM_DISABLE`` set (every
#: ``labnoise run``) no bar at all. tqdm's own ``TQDM_DISABLE`` is only a default that an explicit
#: ``disable=not progress`` overrides, and ``tqdm.notebook`` ignores it, so its widgets (ipywidgets state) ended
#: up in the executed notebooks: every ``tqdm``/``tqdm.auto``/``tqdm.notebook`` bar becomes plain tqdm with
#: ``disable=True``.
KERNEL_SETUP = """\
def _labnoise_setup():
    import os
    import tqdm
    tqdm.tqdm.monitor_interval = 0
    if os.environ.get("TQDM_DISABLE", "").lower() not in ("1", "true", "yes"):
        return
    import tqdm.auto, tqdm.autonotebook, tqdm.notebook, tqdm.std

    class NoBar(tqdm.std.tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    def no_trange(*args, **kwargs):
        return NoBar(range(*args), **kwargs)

    for m in (tqdm, tqdm.auto, tqdm.autonotebook, tqdm.notebook, tqdm.std):
        m.tqdm, m.trange = NoBar, no_trange
try:
    _labnoise_setup()
except Exception:
    pass
del _labnoise_setup
"""


def noise_free(text: str) -> str:
    """``text`` (the kernel's stderr) without the lines of :data:`NOISE`."""
    return "".join(line for line in text.splitlines(keepends=True) if not any(n in line for n in NOISE))


class CellStalled(RuntimeError):
    """A cell ran past its timeout, or the kernel went idle (or answered a later request) without replying."""

    def __init__(self, message, cell_index, first_line, elapsed, reason):
        super().__init__(message)
        self.cell_index, self.first_line, self.elapsed, self.reason = cell_index, first_line, elapsed, reason


class KernelDied(RuntimeError):
    """The kernel process died while a cell ran."""

    def __init__(self, message, cell_index, first_line, elapsed):
        super().__init__(message)
        self.cell_index, self.first_line, self.elapsed = cell_index, first_line, elapsed


def first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:100]
    return ""


class WatchedClient(PapermillNotebookClient):
    """:class:`PapermillNotebookClient` with the bounded waits described in the module docstring."""

    stall_grace = Float(30.0, help="seconds between the kernel's idle status and a missing reply").tag(config=True)
    probe_interval = Float(20.0, help="seconds after which a kernel_info probe is sent behind a running cell "
                           "(it also wakes a stranded request)").tag(config=True)
    start_grace = Float(60.0, help="seconds the kernel may take to start a cell (publish anything for it)"
                        ).tag(config=True)
    tick = Float(1.0, help="seconds between watchdog checks").tag(config=True)
    final_reply_timeout = Float(60.0, help="seconds for replies outside cells (kernel_info)").tag(config=True)

    def __init__(self, nb_man, ipc=True, kernel_stderr=None, **kw):
        super().__init__(nb_man, **kw)
        self._ipc = ipc
        self._kernel_stderr = kernel_stderr
        self._ipc_dir = None

    # -- kernel start: IPC transport, stderr to a file ----------------------------------------------------------
    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if self._ipc:
            self._ipc_dir = tempfile.mkdtemp(prefix="lnk-")
            km.transport = "ipc"
            km.ip = f"{self._ipc_dir}/k"
        return km

    async def async_start_new_kernel(self, **kwargs):
        if self._kernel_stderr is not None:
            kwargs.setdefault("stderr", self._kernel_stderr)
            kwargs.setdefault("stdout", self._kernel_stderr)  # the kernel's own sys.__stdout__ (not cell output)
        return await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def execute(self, **kwargs):
        try:
            return super().execute(**kwargs)
        finally:
            if self._ipc_dir:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    def process_message(self, msg, *args, **kwargs):
        self._seen_parent = msg["parent_header"].get("msg_id")  # the kernel started that request
        return super().process_message(msg, *args, **kwargs)

    def papermill_execute_cells(self):
        self.wait_for_reply(self.kc.execute(KERNEL_SETUP, silent=True, store_history=False))
        super().papermill_execute_cells()

    # -- cells --------------------------------------------------------------------------------------------------
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        t0 = time.monotonic()
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            self.shutdown_kernel = "immediate"
            elapsed = time.monotonic() - t0
            raise KernelDied(f"the kernel died in cell {self.code_cells_executed} ({first_line(cell.source)!r}) after "
                             f"{elapsed:.0f} s", self.code_cells_executed, first_line(cell.source), elapsed) from None
        except CellStalled:
            self.shutdown_kernel = "immediate"
            raise

    execute_cell = run_sync(async_execute_cell)

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        """Wait for the reply to ``msg_id``: bounded by ``timeout`` (the cell timeout), watched for a lost reply."""
        index = self.code_cells_executed  # the cell's number, as In [N] of the executed notebook
        start = time.monotonic()
        idle_since = None
        next_probe = start + self.probe_interval
        probe_id = None
        reason = None
        while True:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=self.tick))
            except Empty:
                msg = None
            now = time.monotonic()
            if msg is not None:
                parent = msg["parent_header"].get("msg_id")
                if parent == msg_id:
                    if self.record_timing:
                        cell["metadata"]["execution"]["shell.execute_reply"] = timestamp(msg)
                    try:
                        await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
                    except (asyncio.TimeoutError, Empty):
                        self.log.warning("Timeout waiting for IOPub output")
                    task_poll_kernel_alive.cancel()
                    return msg
                if probe_id is not None and parent == probe_id:
                    reason = ("the kernel answered a later request but never replied to this cell "
                              "(the reply was lost)")
            if task_poll_output_msg.done() and not task_poll_output_msg.cancelled() \
                    and task_poll_output_msg.exception() is not None:
                task_poll_kernel_alive.cancel()
                task_poll_output_msg.result()  # raises what processing the cell's output raised
            if (reason is None and getattr(self, "_seen_parent", None) != msg_id
                    and now - start > self.start_grace):
                reason = (f"the kernel never started the cell in {now - start:.0f} s (the request was not read; "
                          "a known ipykernel 7 wedge, ipython/ipykernel#1554)")
            if reason is None and task_poll_output_msg.done() and not task_poll_output_msg.cancelled():
                idle_since = idle_since or now
                if now - idle_since > self.stall_grace:
                    reason = f"the kernel went idle but sent no reply for {now - idle_since:.0f} s"
            if reason is None and timeout is not None and now - start > timeout:
                reason = f"the cell ran past its timeout of {timeout:g} s"
            if reason is not None:
                await self._stall(cell, index, now - start, reason, task_poll_output_msg, task_poll_kernel_alive)
            if msg is None:
                await self._async_check_alive()
                if probe_id is None and now >= next_probe:
                    probe_id = self.kc.kernel_info()

    async def _stall(self, cell, index, elapsed, reason, task_poll_output_msg, task_poll_kernel_alive):
        task_poll_kernel_alive.cancel()
        try:  # interrupt, and give the kernel a moment to print where it was
            await ensure_async(self.km.interrupt_kernel())
            await asyncio.wait_for(asyncio.shield(task_poll_output_msg), 5)
        except Exception:
            pass
        task_poll_output_msg.cancel()
        line = first_line(cell.source)
        raise CellStalled(f"stalled in cell {index} ({line!r}) after {elapsed:.0f} s: {reason}", index, line,
                          elapsed, reason)

    async def async_wait_for_reply(self, msg_id, cell=None):
        """Replies outside cells (the setup snippet, papermill's final ``kernel_info``, papermill#711) wait at
        most ``final_reply_timeout`` seconds; a missing one is logged and replaced by a minimal reply, since the
        chapter's cells have all run (or not started) by then."""
        if cell is not None:
            return await super().async_wait_for_reply(msg_id, cell)
        saved = self.timeout
        self.timeout = int(self.final_reply_timeout)
        try:
            msg = await super().async_wait_for_reply(msg_id, cell)
        except CellStalled as e:
            self.shutdown_kernel = "immediate"
            self.log.warning("%s; going on without it", e)
            msg = {"content": {"status": "ok", "language_info": {"name": "python"}}}
        finally:
            self.timeout = saved
        return msg

    wait_for_reply = run_sync(async_wait_for_reply)

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is None:  # outside a cell (kernel_info after the last cell): bounded, then a clear error
            self.shutdown_kernel = "immediate"
            raise CellStalled(f"the kernel did not answer a request outside the cells within {timeout} s",
                              -1, "", float(timeout), "no reply outside a cell")
        return await super()._async_handle_timeout(timeout, cell)


class WatchedEngine(NBClientEngine):
    """papermill engine ``labnoise``: :class:`WatchedClient` instead of :class:`PapermillNotebookClient`."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                             kernel_name=kernel_name, log=logging.getLogger("papermill"), log_output=log_output,
                             stdout_file=stdout_file, stderr_file=stderr_file)
        return WatchedClient(nb_man, **final).execute()


papermill_engines.register("labnoise", WatchedEngine)
