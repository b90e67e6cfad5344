"""Model cards: what a model is and needs, as typed data (no torch).

:mod:`.card` reads, checks and writes model.json; :mod:`.frontend` describes
the front ends a card can declare and how each frames its samples.
"""

from mtag.cards.card import (
    ACTIVATIONS,
    CARD_FILE,
    CARD_FORMAT,
    SHORT_INPUTS,
    SIGMOID,
    SOFTMAX,
    InputWindow,
    ModelCard,
    WeightsRef,
    parse_card,
    read_card,
    read_weights,
    write_card,
)
from mtag.cards.frontend import (
    FRONT_ENDS,
    Framing,
    FrontEndError,
    FrontEndSpec,
    LogMelSpec,
    MelSpec,
    MfccSpec,
    MusicnnLogMelSpec,
    WaveformSpec,
    read_frontend,
)

__all__ = [
    "ACTIVATIONS",
    "CARD_FILE",
    "CARD_FORMAT",
    "FRONT_ENDS",
    "SHORT_INPUTS",
    "SIGMOID",
    "SOFTMAX",
    "Framing",
    "FrontEndError",
    "FrontEndSpec",
    "InputWindow",
    "LogMelSpec",
    "MelSpec",
    "MfccSpec",
    "ModelCard",
    "MusicnnLogMelSpec",
    "WaveformSpec",
    "WeightsRef",
    "parse_card",
    "read_card",
    "read_frontend",
    "read_weights",
    "write_card",
]
