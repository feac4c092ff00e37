"""The One Euro filter (Casiez et al. 2012), vectorised over many 2-D points.

Slow motion is smoothed hard (kills jitter), fast motion lightly (keeps latency
low). Speeds are measured in body sizes per second, so the same settings work for
a person near the camera and far from it. All tuning lives in ``FilterSettings``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FilterSettings:
    min_cutoff: float = 0.1   # Hz at rest: lower = smoother when still
    # How fast the cutoff rises with speed (body sizes / s). MediaPipe-like 40 left
    # half the jitter of a still person; 10 removes 70% and lags a 6 body/s swing
    # by a tenth of a frame (measured in tests/test_retarget.py).
    beta: float = 10.0
    d_cutoff: float = 1.0     # Hz, smoothing of the speed estimate itself

    @classmethod
    def from_smoothing(cls, smoothing: float) -> "FilterSettings | None":
        """The user's 0..1 slider: 0 = raw landmarks, 0.5 = defaults, 1 = very smooth."""
        s = min(1.0, max(0.0, float(smoothing)))
        if s <= 0.0:
            return None
        return cls(min_cutoff=0.1 * 10 ** (2.0 * (0.5 - s)), beta=10.0 * 10 ** (1.0 * (0.5 - s)))


def _alpha(cutoff: np.ndarray | float, dt: float):
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    def __init__(self, settings: FilterSettings):
        self.settings = settings
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, points: np.ndarray, t: float, scale: float) -> np.ndarray:
        """points (n, 2) at time t (s); scale = body size in the same units as points."""
        points = np.asarray(points, dtype=np.float64)
        if self._x is None or self._t is None or t <= self._t or self._x.shape != points.shape:
            self._x, self._dx, self._t = points.copy(), np.zeros_like(points), t
            return points.copy()
        dt = t - self._t
        s = self.settings
        dx = (points - self._x) / dt / max(scale, 1e-6)
        self._dx = self._dx + _alpha(s.d_cutoff, dt) * (dx - self._dx)
        speed = np.linalg.norm(self._dx, axis=1, keepdims=True)
        cutoff = s.min_cutoff + s.beta * speed
        self._x = self._x + _alpha(cutoff, dt) * (points - self._x)
        self._t = t
        return self._x.copy()
