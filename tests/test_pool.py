"""pool.guarded_map: results in order; a worker that dies, overruns its time or its memory
yields a WorkerFailure for its item only, the pool is rebuilt, and the other items are untouched.
pool.parallel_map: the same pool without caps, for our own writing; in-process for few items."""

from __future__ import annotations

import os
import signal
import sys
import time
import types

import pytest

from toolkit import pool
from toolkit.errors import DuchaError
from toolkit.pool import WorkerFailure, guarded_map, parallel_map
from toolkit.poolwork import READER_NICENESS

POSIX = sys.platform != "win32"


def behave(shared: str, item: str) -> str:
    """Worker function: items name how to misbehave; anything else is echoed with shared."""
    if item == "sleep":
        time.sleep(3600)
    if item == "exit":
        os._exit(3)
    if item == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if item == "hog":
        hog = bytearray(2 << 30)  # 2 GiB, far over the cap
        return str(len(hog))
    if item == "refuse":
        raise DuchaError("文件在读取过程中被修改")
    return f"{shared}:{item}:{os.getpid()}"


def results(items: list[str], **kwargs) -> list:
    options = {"seconds": 5.0, "memory_mb": 256.0, "workers": 2} | kwargs
    return list(guarded_map(behave, items, "s", **options))


def test_results_come_back_in_item_order_from_several_workers():
    out = results([str(n) for n in range(12)])
    assert [r.split(":")[1] for r in out] == [str(n) for n in range(12)]
    assert {r.split(":")[0] for r in out} == {"s"}
    assert list(guarded_map(behave, [], "s", seconds=1, memory_mb=64)) == []


def test_a_worker_over_time_is_killed_and_only_its_item_fails():
    out = results(["a", "sleep", "b", "c"], seconds=1.0)
    assert out[1] == WorkerFailure(timed_out=True, exitcode=-signal.SIGKILL if POSIX else out[1].exitcode)
    assert [r.split(":")[1] for r in (out[0], *out[2:])] == ["a", "b", "c"]


def test_the_items_a_worker_held_behind_one_that_overran_are_still_done():
    out = results(["a", "sleep", "b", "c", "d"], seconds=1.0, workers=1)
    assert isinstance(out[1], WorkerFailure) and out[1].timed_out
    assert [r.split(":")[1] for r in (out[0], *out[2:])] == ["a", "b", "c", "d"]
    assert out[0].split(":")[2] != out[2].split(":")[2]  # done by the worker started in its place


def finished_at(shared: None, item: str) -> float:
    return time.monotonic()  # system-wide on Linux, macOS and Windows: comparable between processes


def test_workers_read_on_while_the_caller_is_busy_with_a_result():
    """The caller stores each result in its own time; a worker does not wait for it to come back
    for the next item. The worker that gave the first result holds _AHEAD - 1 more (the other may
    not have been ready yet); before, each worker had one item at a time: 2 were done at most."""
    outcomes = guarded_map(finished_at, [str(n) for n in range(20)], None, seconds=5, memory_mb=256, workers=2)
    next(outcomes)
    time.sleep(0.5)  # the caller busy storing the first result
    resumed = time.monotonic()
    done_meanwhile = sum(stamp < resumed for stamp in outcomes)
    assert done_meanwhile >= pool._AHEAD - 1


@pytest.mark.skipif(not POSIX, reason="no signals or rlimit on Windows")
def test_a_worker_that_dies_or_runs_out_of_memory_is_replaced():
    out = results(["a", "exit", "kill", "hog", "b"], workers=1)
    assert out[1] == WorkerFailure(timed_out=False, exitcode=3)
    assert out[2] == WorkerFailure(timed_out=False, exitcode=-signal.SIGKILL)
    assert out[3].out_of_memory and not out[1].out_of_memory and not out[2].out_of_memory
    pids = [r.split(":")[2] for r in (out[0], out[4])]
    assert pids[0] != pids[1]  # the one worker was replaced after each death


def test_an_exception_the_function_raises_is_raised_in_the_parent():
    with pytest.raises(DuchaError, match="被修改"):
        results(["a", "refuse", "b"])


def test_a_worker_that_cannot_start_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    """The function lives in a module the worker cannot import, so it dies before it is ready."""
    module = types.ModuleType("ducha_vanished")

    def vanish(shared: object, item: str) -> str:
        return item

    vanish.__module__, vanish.__qualname__ = module.__name__, "vanish"
    module.vanish = vanish
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with pytest.raises(DuchaError, match="无法启动读取文件的子进程"):
        list(guarded_map(vanish, ["a"], None, seconds=5, memory_mb=256))


def test_parallel_map_keeps_order_and_uses_workers_only_past_the_threshold(monkeypatch):
    items = [str(n) for n in range(12)]
    inline = parallel_map(behave, items, "s")
    assert [r.split(":")[:2] for r in inline] == [["s", i] for i in items]
    assert {r.split(":")[2] for r in inline} == {str(os.getpid())}  # 12 < POOL_THRESHOLD: this process
    monkeypatch.setattr(pool, "POOL_THRESHOLD", 4)
    pooled = parallel_map(behave, items, "s", workers=2)
    assert [r.split(":")[:2] for r in pooled] == [["s", i] for i in items]
    assert str(os.getpid()) not in {r.split(":")[2] for r in pooled}


@pytest.mark.skipif(not POSIX, reason="SIGKILL is POSIX")
def test_parallel_map_turns_a_dead_writer_into_a_chinese_error():
    with pytest.raises(DuchaError, match="写文件的子进程意外退出"):
        parallel_map(behave, ["a", "kill", "b"], "s", workers=2)


def parent_and_shared(shared: object, item: str) -> tuple[int, bool]:
    """Worker function: whose child this worker is, and whether shared is the very object the
    parent meant (an object that pickle cannot carry proves it was not pickled)."""
    return os.getppid(), shared is not None and shared.__class__.__name__ == "lock"


@pytest.mark.skipif(not pool.OWN_WORK_FORKS, reason="own work is forked on Linux only")
def test_own_work_is_forked_from_this_process_and_hostile_reading_never_is():
    import threading

    unpicklable = threading.Lock()
    own = parallel_map(parent_and_shared, ["a", "b", "c"], unpicklable, workers=2)
    assert own == [(os.getpid(), True)] * 3  # inherited as is: a lock cannot be pickled
    reading = list(guarded_map(parent_and_shared, ["a", "b"], None, seconds=5, memory_mb=256, workers=2))
    assert all(ppid != os.getpid() for ppid, _ in reading)  # the forkserver's children, not this process's


def lock_item_held(shared: object, item: tuple[str, object]) -> str:
    """Worker function: the item's name, if its second half is still the lock the parent made."""
    return item[0] if item[1].__class__.__name__ == "lock" else "pickled"


@pytest.mark.skipif(not pool.OWN_WORK_FORKS, reason="own work is forked on Linux only")
def test_own_work_items_are_inherited_too_and_only_their_index_is_sent():
    import threading

    items = [(name, threading.Lock()) for name in "abcde"]  # a lock cannot be pickled
    assert parallel_map(lock_item_held, items, None, workers=2) == list("abcde")


def niceness(shared: object, item: str) -> int:
    """Worker function: the worker's scheduling priority (POSIX niceness; higher runs later)."""
    return os.nice(0)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priority to lower on this platform")
def test_readers_of_returned_files_run_below_the_merge_and_its_own_writers_do_not():
    here = os.nice(0)
    reading = list(guarded_map(niceness, ["a", "b"], None, seconds=5, memory_mb=256, workers=2))
    assert reading == [min(here + READER_NICENESS, 19)] * 2
    assert parallel_map(niceness, ["a", "b"], None, workers=2) == [here, here]
