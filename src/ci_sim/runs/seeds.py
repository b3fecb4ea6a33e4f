"""Seeds of replications: cheap to import (no model), so experiment files can be read without the engine."""

from __future__ import annotations

import numpy as np


def replication_seed(base_seed: int, replication: int) -> int:
    """The integer seed of replication ``replication`` under ``base_seed``."""
    seq = np.random.SeedSequence(base_seed, spawn_key=(replication,))
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
