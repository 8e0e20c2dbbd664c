"""The one process pool: fn(shared, item) over many items in worker processes, results in order.

Three jobs use it: reading returned files (guarded_map, with a time and memory cap per item, since
the files are hostile), and writing unit workbooks and receipts (parallel_map: our own work, no
caps, and in this process when there are too few items to pay for the workers' start).

Why the caps:

A returned workbook is parsed by native code (python-calamine) that a crafted file can drive into
allocating gigabytes or aborting the process outright: a Rust allocation failure is not an
exception, it kills the process. So every parse happens in a worker process whose address space is
capped (RLIMIT_AS, POSIX only) and whose time per item is capped by the parent; a worker that runs
out of either is killed and replaced, and its item comes back as a WorkerFailure value instead of a
result. The parent never parses anything, so it survives whatever the files do; results come back
in item order, so a run is repeatable whatever the scheduling.

Workers never inherit the parent's open files (not the workspace lock, not the store) and notice
when the parent dies (its pipe closes). Where the platform has it (Linux, macOS) they are forked
from a "forkserver": one clean interpreter, started once per process with the function's module
already imported, so a worker costs a fork (~10 ms) rather than a fresh interpreter (~0.3 s) —
at the start of each merge and each time a hostile file kills one. Forking the merge process
itself ("fork") would be cheaper still but would hand the workers the lock, the store and
everything else it holds: no place for a worker that parses hostile files. Elsewhere (Windows)
workers are spawned; there is no rlimit there, but the timeout and the bounds checked before
parsing (intake.sniff.check_limits, intake.parts' extent checks) still apply.

Our own work (parallel_map: writing receipts and workbooks from data this process already holds)
is the other way round: on Linux its workers are forked from this process itself, so the data
they share (the merged quarter, ~11 MB pickled at 1,000 units and ~110 MB at 10,000; the ledger)
is inherited instead of pickled here and unpickled in every worker, and so are the items (a job
sent is just an item's index: 1,000 unit workbooks took 0.43-0.55 s of this process's CPU, beside
its two workers on two cores, and take 0.26 s), and no server has to import the writers first.
Such a worker only builds bytes and writes files, never touches the inherited
store or lock, and ends with os._exit, so nothing it inherited is closed or flushed twice; this
process runs no other thread when it forks (the cli's progress bar draws from this thread). Not
on macOS, where forking a process that has loaded system frameworks is unsafe.
"""

from __future__ import annotations

import collections
import contextlib
import math
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import wait
from typing import Any

from toolkit.errors import DuchaError
from toolkit.poolwork import EXIT_MEMORY, Inherited, work

_MIB = 1024 * 1024
_STARTUP_SECONDS = 120.0  # a worker that cannot even start in this long is not going to
_MAX_WORKERS = 8
_AHEAD = 8  # items a worker holds at once: the one it works on and those waiting in its pipe
# Our own work's workers are forked from this process where that is safe (module docstring).
OWN_WORK_FORKS = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True)
class WorkerFailure:
    """The outcome of an item whose worker gave no result."""

    timed_out: bool  # killed after the per-item time limit
    exitcode: int | None  # how the worker ended (negative: the signal that killed it)

    @property
    def out_of_memory(self) -> bool:
        """The worker hit its memory cap: a MemoryError in Python, or an aborted allocation in
        native code (Rust aborts with SIGABRT when an allocation fails)."""
        sigabrt = getattr(signal, "SIGABRT", None)
        return not self.timed_out and (
            self.exitcode == EXIT_MEMORY or (sigabrt is not None and self.exitcode == -sigabrt)
        )


def worker_count(items: int) -> int:
    """One worker per core (at most 8), never more than there are items."""
    return max(1, min(os.cpu_count() or 1, _MAX_WORKERS, items))


def guarded_map(
    fn: Callable[[Any, Any], Any],
    items: Sequence[Any],
    shared: Any,
    *,
    seconds: float | None,
    memory_mb: float | None,
    workers: int | None = None,
    own: bool = False,
) -> Iterator[Any]:
    """fn(shared, item) for every item, in order, each in a bounded worker process; an item whose
    worker died or overran `seconds` yields a WorkerFailure. fn must be a module-level function
    (it is pickled by name); shared is pickled once per worker. An exception fn raises is raised
    here, as map() would. None lifts a cap. own: the items are our own work, not hostile files
    (parallel_map), so the workers may be forked from this process (OWN_WORK_FORKS)."""
    if not items:
        return
    memory = math.inf if memory_mb is None else memory_mb * _MIB
    pool = _Pool(fn, shared, math.inf if seconds is None else seconds, memory, own)
    try:
        for done, outcome in enumerate(pool.run(list(items), workers or worker_count(len(items))), start=1):
            _tell(fn, done, len(items))
            yield outcome
    finally:
        pool.close()


_WATCHERS: list[Callable[[str, int, int], None]] = []  # the innermost watch() is told


@contextlib.contextmanager
def watch(report: Callable[[str, int, int], None]) -> Iterator[None]:
    """Within the block, report(fn's name, items done, items in all) after each item of every map:
    for a progress display on a terminal (the cli's); the library itself prints nothing."""
    _WATCHERS.append(report)
    try:
        yield
    finally:
        _WATCHERS.remove(report)


def _tell(fn: Callable[[Any, Any], Any], done: int, total: int) -> None:
    if _WATCHERS:
        _WATCHERS[-1](fn.__name__, done, total)


# Below this many items a pool costs more to start than it saves (parallel_map): a forked worker
# starts in milliseconds (66 unit workbooks: 1.15 s → 0.91 s for the whole `ducha generate`), one
# from the forkserver or spawned only after its interpreter and imports, ~0.5 s.
POOL_THRESHOLD = 16 if OWN_WORK_FORKS else 200


def parallel_map(fn: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any,
                 workers: int | None = None) -> list[Any]:
    """fn(shared, item) for every item, in order, for our own work (writing workbooks): in this
    process below POOL_THRESHOLD items or with workers=1, else in uncapped pool workers, which,
    like the guarded ones, end when this process dies (a killed merge leaves no worker writing
    receipts from its stale state)."""
    count = workers or (worker_count(len(items)) if len(items) >= POOL_THRESHOLD else 1)
    if count <= 1:
        results = []
        for item in items:
            results.append(fn(shared, item))
            _tell(fn, len(results), len(items))
        return results
    results = list(guarded_map(fn, items, shared, seconds=None, memory_mb=None, workers=count, own=True))
    failed = next((r for r in results if isinstance(r, WorkerFailure)), None)
    if failed is not None:
        raise DuchaError(f"写文件的子进程意外退出（退出码 {failed.exitcode}），请重新运行")
    return results


class _Worker:
    def __init__(self, fn: Callable[[Any, Any], Any], shared: bytes | Inherited, memory_bytes: float,
                 own: bool) -> None:
        self.inherits = isinstance(shared, Inherited)
        context = multiprocessing.get_context("fork") if self.inherits else _context(fn)
        self.conn, child = context.Pipe()
        self.process = context.Process(target=work, args=(child, fn, shared, memory_bytes, os.getcwd(), not own),
                                       daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.jobs: collections.deque[int] = collections.deque()  # sent, in the order it works through them
        self.deadline = time.monotonic() + _STARTUP_SECONDS

    def give(self, index: int, item: Any, seconds: float) -> None:
        if not self.jobs:
            self.deadline = time.monotonic() + seconds
        self.jobs.append(index)
        self.conn.send(index if self.inherits else (index, item))

    def finished(self, seconds: float) -> int:
        """The index of the job it was working on; the clock starts on the next one it holds."""
        index = self.jobs.popleft()
        self.deadline = time.monotonic() + seconds if self.jobs else math.inf
        return index

    def ask_to_stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # already gone (or already asked)
            self.conn.send(None)

    def stop(self) -> None:
        """Ask politely, then insist: the worker may be stuck in native code."""
        self.ask_to_stop()
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


_PRELOAD: list[str] = []  # modules of the pool's later jobs in this process (preload)


def preload(module: str) -> None:
    """Have the forkserver import module too when it starts. A process that uses the pool for
    more than one job (a merge: reading, then receipts) names the later jobs' modules first;
    otherwise each of their workers imports them itself (~0.5 s each for pandas and xlsxwriter,
    longer than 66 receipts take to write)."""
    if module not in _PRELOAD:
        _PRELOAD.append(module)


def warm_up(*modules: str) -> None:
    """Start the forkserver now, with modules preloaded, so that its start-up (an interpreter and
    the imports, ~0.5 s) runs beside this process's own work — loading the ledger — instead of
    when the first worker is wanted. Nothing where there is no forkserver (Windows)."""
    for module in modules:
        preload(module)
    if "forkserver" in multiprocessing.get_all_start_methods():
        multiprocessing.get_context("forkserver").set_forkserver_preload(list(_PRELOAD))
        forkserver.ensure_running()


def _context(fn: Callable[[Any, Any], Any]) -> multiprocessing.context.BaseContext:
    """The forkserver where there is one (see the module docstring) with fn's module and those
    named by preload() preloaded; else spawn. The preload takes effect when the server starts, at
    the first guarded_map of the process. Each worker still imports the parent's main module, as a
    spawned one would (Python 3.11's forkserver does not preload it): for `ducha` that is the small
    toolkit.cli."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(dict.fromkeys([fn.__module__, *_PRELOAD])))
    return context


class _Pool:
    def __init__(self, fn: Callable[[Any, Any], Any], shared: Any, seconds: float, memory_bytes: float,
                 own: bool) -> None:
        self.fork = own and OWN_WORK_FORKS
        # Pickled once, not once per worker: the ledger is ~2 MB at 1,000 units, ~20 MB at 10,000.
        self.shared = shared if self.fork else pickle.dumps(shared)
        self.fn, self.own, self.seconds, self.memory_bytes = fn, own, seconds, memory_bytes
        self.workers: list[_Worker] = []
        self.waiting: list[int] = []  # indexes of items not yet given, next one last
        self.items: list[Any] = []

    def _feed(self) -> None:
        """Keep every ready worker holding up to _AHEAD items, dealt round by round so that the
        last ones spread over the workers. A worker that finishes an item finds the next in its
        pipe, instead of idling until this process, storing a batch of results, comes round to
        give it one."""
        for held in range(_AHEAD):
            for worker in self.workers:
                if worker.ready and len(worker.jobs) <= held and self.waiting:
                    index = self.waiting.pop()
                    worker.give(index, self.items[index], self.seconds)

    def run(self, items: list[Any], count: int) -> Iterator[Any]:
        self.items, self.waiting = items, list(range(len(items)))[::-1]
        self.workers = [self._start() for _ in range(count)]
        done: dict[int, Any] = {}
        emitted = 0
        while emitted < len(items):
            self._feed()
            soonest = min(w.deadline for w in self.workers)
            timeout = None if soonest == math.inf else max(0.0, soonest - time.monotonic())
            events = wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers], timeout)
            for position, worker in enumerate(self.workers):
                outcome = self._check(worker, events)
                if outcome is None:
                    continue
                kind, value = outcome
                if kind == "raise":
                    raise value
                if worker.jobs and kind in ("result", "failure"):
                    done[worker.finished(self.seconds)] = value
                if kind == "failure":  # the items it held after the one it died on go to the others
                    self.waiting.extend(reversed(worker.jobs))
                    worker.stop()
                    self.workers[position] = self._start()
            self._feed()  # before yielding: the workers read on while the caller stores results
            while emitted in done:
                yield done.pop(emitted)
                emitted += 1

    def _check(self, worker: _Worker, events: list[Any]) -> tuple[str, Any] | None:
        """What happened to one worker: ("ready"|"result"|"raise"|"failure", value) or None."""
        if worker.conn in events:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                message = None  # it died: the sentinel tells how
            if isinstance(message, str):  # READY
                worker.ready = True
                worker.deadline = math.inf
                return "ready", None
            if message is not None:
                _index, ok, value = message
                return ("result", value) if ok else ("raise", value)
        timed_out = time.monotonic() >= worker.deadline
        if worker.process.sentinel in events or worker.conn in events or timed_out:
            if not worker.ready:
                raise DuchaError(
                    f"无法启动读取文件的子进程（退出码 {worker.process.exitcode}）。"
                    "如改过 ducha.toml 的 [limits] max_memory_mb，请调大后重新运行"
                )
            if timed_out and worker.process.is_alive():
                worker.process.kill()
            worker.process.join()
            return "failure", WorkerFailure(timed_out=timed_out, exitcode=worker.process.exitcode)
        return None

    def _start(self) -> _Worker:
        shared = Inherited(self.shared, self.items) if self.fork else self.shared
        return _Worker(self.fn, shared, self.memory_bytes, self.own)

    def close(self) -> None:
        for worker in self.workers:  # all asked first: they wind down together
            worker.ask_to_stop()
        for worker in self.workers:
            worker.stop()
        self.workers = []
