"""Finding files under the paths a user gives, and hashing them on a pool of worker processes.

Hashing (decoding photos and videos) is CPU-bound and runs in worker processes; everything that
touches the database stays in the calling process, which consumes results as they complete.
"""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bastion.errors import BastionError
from bastion.signals.base import HashLimits
from bastion.signals.extract import Extraction

# Results waiting to be consumed per worker: enough to keep workers busy, bounded so a folder of
# a million files does not hold a million futures.
_IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True, slots=True)
class Problem:
    """A path that could not be used: shown as ``path: code: detail``."""

    path: str
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Hashed:
    """The outcome of hashing one file: an extraction, or the problem that stopped it."""

    path: str
    size: int | None
    extraction: Extraction | None
    problem: Problem | None


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def find_files(paths: Sequence[Path], *, hidden: bool = False) -> tuple[list[Path], list[Problem]]:
    """Regular files named by ``paths`` or found below them, in a stable order.

    Folders are walked recursively without following symlinked folders (a link back up the tree
    would loop forever). Hidden names are skipped unless ``hidden``; a file named explicitly is
    always taken. Only regular files are read: opening a FIFO or a device would block or never end.
    """
    found: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()

    def take(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            found.append(path)

    for root in paths:
        try:
            mode = root.stat().st_mode
        except OSError as exc:
            problems.append(Problem(str(root), "file_not_found", exc.strerror or str(exc)))
            continue
        if stat.S_ISREG(mode):
            take(root)
            continue
        if not stat.S_ISDIR(mode):
            problems.append(Problem(str(root), "not_a_file", "not a regular file or folder"))
            continue
        for folder, dirnames, filenames in os.walk(root, onerror=None, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if hidden or not _is_hidden(d))
            for name in sorted(filenames):
                if not hidden and _is_hidden(name):
                    continue
                path = Path(folder) / name
                try:
                    if stat.S_ISREG(path.stat().st_mode):
                        take(path)
                except OSError:
                    continue  # a dangling symlink: nothing to read
    return found, problems


def hash_file(path: str, limits: HashLimits, for_bank: bool = False) -> Hashed:
    """Hash one file. Runs in a worker process, so it returns problems instead of raising.

    ``for_bank``: as :func:`bastion.signals.extract.extract_signals` (dense video frames)."""
    from bastion.signals.extract import extract_signals_from_path

    size: int | None = None
    try:
        size = os.path.getsize(path)
        extraction = extract_signals_from_path(path, limits=limits, for_bank=for_bank)
    except BastionError as exc:
        return Hashed(path, size, None, Problem(path, exc.code, exc.detail))
    except OSError as exc:
        return Hashed(path, size, None, Problem(path, "file_unreadable", exc.strerror or str(exc)))
    except Exception as exc:  # a decoder bug must not end a scan of a million files
        detail = f"{type(exc).__name__}: {exc}"
        return Hashed(path, size, None, Problem(path, "internal_error", detail))
    return Hashed(path, size, extraction, None)


def _init_worker() -> None:
    # One process per core already; threaded native code inside each would oversubscribe.
    os.environ["OMP_NUM_THREADS"] = "1"
    # Ctrl-C reaches the whole process group; the parent handles it and stops the pool, so
    # workers ignore it instead of each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def resolve_workers(requested: int, files: int) -> int:
    """``0`` means one per core; never more workers than files."""
    wanted = requested if requested > 0 else (os.cpu_count() or 1)
    return max(1, min(wanted, files))


@contextmanager
def _single_threaded_env() -> Iterator[None]:
    """OMP_NUM_THREADS=1 while worker processes start (they copy the environment then)."""
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def hash_files(
    paths: Iterable[Path],
    limits: HashLimits,
    *,
    workers: int,
    on_started: Callable[[], None] | None = None,
    for_bank: bool = False,
) -> Iterator[Hashed]:
    """Hash ``paths`` with ``workers`` processes, yielding each outcome as soon as it is ready.

    ``on_started`` runs once the worker processes exist: callers start threads (a progress bar)
    only then, because forking a process while another thread holds a lock can deadlock the child.
    With one worker everything runs in this process: no start-up cost for small jobs.
    """
    pending = [str(path) for path in paths]
    if workers <= 1 or len(pending) <= 1:
        if on_started:
            on_started()
        for path in pending:
            yield hash_file(path, limits, for_bank)
        return
    queue = iter(pending)
    with _single_threaded_env():
        executor = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker)
    running: dict[Future[Hashed], str] = {}
    crashed: list[str] = []

    def submit_more() -> None:
        for path in queue:
            if crashed:  # the pool is gone: nothing more can be hashed
                crashed.append(path)
                continue
            try:
                running[executor.submit(hash_file, path, limits, for_bank)] = path
            except BrokenProcessPool:
                crashed.append(path)
                continue
            if len(running) >= workers * _IN_FLIGHT_PER_WORKER:
                break

    try:
        with _single_threaded_env():
            submit_more()  # the first submit starts every worker process
        if on_started:
            on_started()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                path = running.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    # A worker died (out of memory, a crash in native code): every file still
                    # queued fails with it, and which one killed it is unknown.
                    crashed.append(path)
            submit_more()
        for path in crashed:
            yield Hashed(path, None, None, Problem(path, "worker_crashed", _CRASH))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


_CRASH = "a hashing process died while this file was queued or being hashed; scan it again alone"
