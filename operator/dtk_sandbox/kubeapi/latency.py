"""Slow answers on demand: a real API server under load answers some requests late, and two
requests from one client can then be applied out of order. Tests set a random delay per
(verb, group, resource) to prove the operator never lets an older write land last."""
from __future__ import annotations

import random
import threading

import attrs


@attrs.define
class Latency:
    _delays: dict[tuple[str, str, str], tuple[float, float]] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)
    _random: random.Random = attrs.field(factory=random.Random)

    def slow_down(self, verb: str, group: str, resource: str, *, low: float, high: float) -> None:
        """Each matching request waits a random time between `low` and `high` seconds before it is served."""
        with self._lock:
            self._delays[(verb, group, resource)] = (low, high)

    def delay(self, verb: str, group: str, resource: str) -> float:
        with self._lock:
            bounds = self._delays.get((verb, group, resource))
            return self._random.uniform(*bounds) if bounds else 0.0
