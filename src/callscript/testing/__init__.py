"""Tools for testing flows: sample values, seeded random walks, replays.

Hypothesis strategies live in callscript.testing.strategies (needs hypothesis).
"""

from callscript.testing.walk import Move, random_walk, replay, sample_capture, sample_context

__all__ = ["Move", "random_walk", "replay", "sample_capture", "sample_context"]
