"""Decode worker processes: a crash costs one track, and a worker waits for the model instead of filling memory."""

from __future__ import annotations

import os
import signal
import time

import pytest

from mtag.engine import workers
from mtag.engine.decoding import TrackJob
from mtag.engine.inference import ANALYSED, FAILED, Engine
from mtag.engine.workers import QUEUE_MESSAGES_PER_WORKER, WorkerPool
from tests.audio.synth import chirp, tone, write_samples
from tests.engine.helpers import RecordingTagger, deadline
from tests.plans import musicnn_plan

PLAN = musicnn_plan()


@pytest.fixture(scope="module")
def two_minutes(tmp_path_factory):
    """40 windows: 10 messages and ``done``, more than a worker's queue holds."""
    return write_samples(tmp_path_factory.mktemp("long") / "two minutes.wav", chirp(120.0, 16000), 16000)


def test_a_crashed_decoder_fails_its_track_and_the_run_goes_on(two_minutes, tmp_path, msd, monkeypatch):
    shorts = [write_samples(tmp_path / f"short{i}.flac", tone(3.5, 44100, 330.0 * (i + 1)), 44100) for i in range(2)]
    pools: list[WorkerPool] = []

    class Pool(WorkerPool):
        def __init__(self, count: int) -> None:
            super().__init__(count)
            pools.append(self)

    def kill_the_decoder() -> None:
        """At the first batch, the one worker is still on the long track: its queue is full, it waits."""
        if len(recording.batches) == 1:
            (worker,) = pools[0]._workers
            assert worker.current.value == 0
            time.sleep(0.3)  # let it write as much of its next message as the pipe takes: it dies mid-message
            os.kill(worker.process.pid, signal.SIGKILL)  # the OOM killer, or FFmpeg's segfault
            worker.process.join(5)

    monkeypatch.setattr(workers, "WorkerPool", Pool)
    recording = RecordingTagger(msd, on_predict=kill_the_decoder)
    with deadline(20):  # a reader left waiting on the dead worker's half-written message would hang here
        outcomes = {o.key: o for o in Engine(recording, workers=1).run([two_minutes, *shorts])}
    crashed = outcomes[0]
    assert crashed.status == FAILED
    assert crashed.error.message == "the decoder process died while decoding it (killed by SIGKILL)"
    assert "run the same command again to retry it" in crashed.error.hint  # not blamed on the file
    assert "re-encod" not in str(crashed.error)
    assert crashed.error.path == str(two_minutes) and crashed.result is None
    # short0 was queued on the worker that died, short1 came after: both decoded by its replacement
    for key, path in enumerate(shorts, start=1):
        assert outcomes[key].path == path and outcomes[key].status == ANALYSED
        assert len(outcomes[key].result.segments) == 1
    assert sum(recording.batches) < 40  # the long track was given up, not analysed


def test_a_worker_waits_for_the_reader(two_minutes):
    pool = WorkerPool(1)
    try:
        pool.submit(TrackJob(7, two_minutes, PLAN))
        (worker,) = pool._workers
        with deadline(20):
            while worker.results.qsize() < QUEUE_MESSAGES_PER_WORKER:
                time.sleep(0.05)
        time.sleep(0.5)  # ample time to decode the rest, were it not held back
        assert worker.results.qsize() == QUEUE_MESSAGES_PER_WORKER  # nothing more pending: memory stays bounded
        assert worker.current.value == 7  # still on the track, waiting
        with deadline(20):
            messages = []
            while not messages or messages[-1].kind not in ("done", "failed"):
                if (message := pool.next_message()) is not None:
                    messages.append(message)
        windows = [window for message in messages for window in message.windows]
        assert [window.index for window in windows] == list(range(40))  # nothing lost by waiting
        assert messages[-1].kind == "done" and messages[-1].duration == pytest.approx(120.0)
    finally:
        pool.close()
