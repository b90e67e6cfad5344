"""Max |difference| between mtag and the original musicnn, per model and input.

Usage: python benchmarks/parity.py [SHARED_DIR]   (default: ../shared beside the repo)

Three paths, as in the parity tests: the reference patches straight into the
network; the reference 16 kHz waveform through mtag's windows and front end;
the audio files through mtag's decoder and resampler too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from mtag.audio.windows import iter_windows
from mtag.engine.inference import analyse_file
from mtag.engine.plans import default_plan
from mtag.nets.tagger import load_tagger

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.plans
from tests.plans import score_windows  # noqa: E402

MODELS = {"musicnn-msd": "MSD_musicnn", "musicnn-mtt": "MTT_musicnn", "vgg-msd": "MSD_vgg", "vgg-mtt": "MTT_vgg"}
STEMS = ("synth_10s", "silence_5s", "rock.00000", "techno")


def main(shared: Path) -> None:
    ref = shared / "reference" / "musicnn"
    print(f"{'model':12} {'input':11} {'patches':>9} {'waveform':>9} {'file':>9}")
    for model, ref_name in MODELS.items():
        tagger = load_tagger(model, "cpu")
        plan = default_plan(tagger.card)
        for stem in STEMS:
            expected = np.load(ref / f"{stem}.{ref_name}.taggram.npy")
            from_patches = tagger.predict_features(torch.from_numpy(np.load(ref / f"{stem}.patches.npy"))).numpy()
            audio = np.load(ref / f"{stem}.audio16k.npy")
            from_wave = np.stack([s.scores for s in score_windows(tagger, iter_windows([audio], plan), plan, 32)])
            (audio_file,) = (ref / "audio").glob(f"{stem}.*")
            from_file = np.stack([s.scores for s in analyse_file(audio_file, tagger).segments])
            diffs = [np.abs(x - expected).max() for x in (from_patches, from_wave, from_file)]
            print(f"{model:12} {stem:11} " + " ".join(f"{d:9.1e}" for d in diffs))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared")
