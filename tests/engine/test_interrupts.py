"""Ctrl-C during a decode in the main process is an interrupt, not a damaged file."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from mtag import interrupts
from mtag.audio import decode
from mtag.engine.decoding import TrackJob, decode_track
from tests.engine.helpers import deadline
from tests.plans import musicnn_plan

PLAN = musicnn_plan()


@pytest.fixture
def counting_sigint():
    """:func:`interrupts.install` as ``mtag``'s entry point does, undone afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupts.install()
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_ffmpeg_waits_in_open_is_an_interrupt(tmp_path, monkeypatch, counting_sigint):
    # An open that never returns, like one on a hung network mount: a FIFO with the stat check taken away.
    fifo = tmp_path / "hung.flac"
    os.mkfifo(fifo)
    monkeypatch.setattr(decode, "_check_file", lambda path: None)
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))  # EINTR for the main thread's open
    timer.start()
    try:
        with deadline(20), pytest.raises(KeyboardInterrupt):
            # Without the SIGINT count, PyAV reports "Interrupted system call", the KeyboardInterrupt is lost
            # in its callback, and this yields a "failed" message blaming the file.
            list(decode_track(TrackJob(0, fifo, PLAN)))
    finally:
        timer.cancel()
