"""Kafka's Rate over a SampledStat (org.apache.kafka.common.metrics.stats): `samples` windows of
`window_ms` each; a value is added to the current window, a window older than samples * window_ms
is forgotten, and the rate is the total divided by the elapsed time since the oldest window started,
counted as at least (samples - 1) full windows (Rate.windowSize). Time is passed in: tests inject it.
"""

from __future__ import annotations


class SampledRate:
    __slots__ = ("samples", "window_ms", "_starts", "_values", "_current")

    def __init__(self, samples: int = 11, window_ms: int = 1000, now_ms: float = 0.0) -> None:
        self.samples, self.window_ms = samples, window_ms
        self._starts = [now_ms] * samples
        self._values = [0.0] * samples
        self._current = 0

    def record(self, value: float, now_ms: float) -> None:
        i = self._current
        if now_ms >= self._starts[i] + self.window_ms:  # the current window is complete: start the next
            i = self._current = (i + 1) % self.samples
            self._starts[i] = now_ms
            self._values[i] = 0.0
        self._values[i] += value

    def _purge(self, now_ms: float) -> None:
        expire = self.samples * self.window_ms
        for i, start in enumerate(self._starts):
            if now_ms - start >= expire:
                self._starts[i] = now_ms
                self._values[i] = 0.0

    def window_size_ms(self, now_ms: float) -> float:
        self._purge(now_ms)
        elapsed = now_ms - min(self._starts)
        full = int(elapsed // self.window_ms)
        if full < self.samples - 1:
            elapsed += (self.samples - 1 - full) * self.window_ms
        return elapsed

    def rate(self, now_ms: float) -> float:
        """Per second."""
        window = self.window_size_ms(now_ms)
        return sum(self._values) / (window / 1000.0)

    def throttle_ms(self, bound: float, now_ms: float) -> float:
        """QuotaUtils.throttleTime: how long the client must wait for the rate to fall back to `bound`
        (0 when it is within it)."""
        window = self.window_size_ms(now_ms)
        value = sum(self._values) / (window / 1000.0)
        if value <= bound:
            return 0.0
        return (value - bound) / bound * window
