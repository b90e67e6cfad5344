"""Training augmentations (``mtag train --augment`` and ``--augment-copies``).

* :mod:`.spec` parses and checks the ``--augment`` language;
* :mod:`.waveform` and :mod:`.features` are the operations, in torch;
* :mod:`.augmenter` applies a spec to training batches, seeded;
* :mod:`.copies` writes the offline copies into the audio cache.
"""

from mtag.train.augment.augmenter import Augmenter, Dice
from mtag.train.augment.spec import AugmentSpec, parse_augment

__all__ = ["AugmentSpec", "Augmenter", "Dice", "parse_augment"]
