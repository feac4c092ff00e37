"""The person's expression as a few numbers, applied to the character's own face.

Copying the person's face mesh onto the character (even as a difference from a
neutral face) also copies everything that is not expression: a head turned to the
side drags the jaw line across the face, a human's small eyes squint a cartoon's
big ones. So only what reads as expression is measured, each as a ratio that does
not depend on the face's size, roll or position in the picture:

- eye openness: lid-to-lid height over corner-to-corner width, per eye;
- brow raise: brow above eye, over the face's height, per brow;
- mouth opening: inner lip gap over the face's height (the chin drops with it);
- mouth width: corner to corner over the face's width (smiles widen it).

The character's rest face is then changed by exactly those amounts, in its own
proportions; its outline, nose and forehead keep the shape the artist drew.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .skeleton import FACE_JOINTS

_F = {n: i for i, n in enumerate(FACE_JOINTS)}


def _indices(*names: str) -> np.ndarray:
    return np.array([_F[n] for n in names])


_EYE = {side: _indices(*(f"{side}Eye{k}" for k in range(6))) for side in ("left", "right")}
_BROW = {side: _indices(*(f"{side}Brow{k}" for k in range(5))) for side in ("left", "right")}
_LOWER_LIP = _indices("lowerLipTopMid", "leftLowerLipTop0", "rightLowerLipTop0", "lowerLipBottomMid",
                      "leftLowerLipBottom0", "leftLowerLipBottom1", "rightLowerLipBottom0",
                      "rightLowerLipBottom1")
_MOUTH_CORNERS = _indices("leftMouthCorner", "rightMouthCorner", "leftMiddleLip", "rightMiddleLip")
_MOUTH = np.array(sorted({i for n, i in _F.items() if "Lip" in n or "Mouth" in n}))
# How much of the chin's drop each jaw point takes when the mouth opens.
_JAW_DROP = {"jawMid": 1.0, "leftJaw7": 0.9, "rightJaw7": 0.9, "leftJaw6": 0.7, "rightJaw6": 0.7,
             "leftJaw5": 0.45, "rightJaw5": 0.45, "leftJaw4": 0.2, "rightJaw4": 0.2}
_JAW = _indices(*_JAW_DROP)
_JAW_WEIGHT = np.array(list(_JAW_DROP.values()))

# A relaxed human face, measured with FaceMesh on frontal photos of eight people
# (eye openness 0.19-0.35, brows 0.06-0.11, closed lips 0.002-0.018, mouth 0.33-0.53).
NEUTRAL_EYE = 0.26
NEUTRAL_BROW = 0.075
CLOSED_LIPS = 0.01
NEUTRAL_MOUTH_WIDTH = 0.41
SHUT_EYE = 0.08            # openness at which the eye counts as closed


@dataclass
class Expression:
    eyes: np.ndarray        # (2,) openness, left then right
    brows: np.ndarray       # (2,) raise
    mouth_open: float
    mouth_width: float

    @classmethod
    def neutral(cls) -> "Expression":
        return cls(np.full(2, NEUTRAL_EYE), np.full(2, NEUTRAL_BROW), CLOSED_LIPS, NEUTRAL_MOUTH_WIDTH)

    def blend(self, other: "Expression", amount: float) -> "Expression":
        """Moves towards ``other`` by ``amount`` (0..1); the mouth's closed gap stays fixed,
        so a person who talks a lot does not teach the character that open is neutral."""
        return Expression(self.eyes + amount * (other.eyes - self.eyes),
                          self.brows + amount * (other.brows - self.brows),
                          self.mouth_open,
                          self.mouth_width + amount * (other.mouth_width - self.mouth_width))


def upright(face: np.ndarray) -> np.ndarray:
    """Face points (complex) turned so the forehead is straight up the picture."""
    up = face[_F["topMid"]] - face[_F["jawMid"]]
    if abs(up) < 1e-9:
        return face
    return face * (-1j / (up / abs(up)))


def measure(face: np.ndarray) -> Expression:
    """The expression of a face given as (73,) complex points in FACE_JOINTS order."""
    face = upright(face)
    height = abs(face[_F["topMid"]] - face[_F["jawMid"]]) or 1.0
    width = abs(face[_F["leftJaw3"]] - face[_F["rightJaw3"]]) or 1.0
    eyes, brows = [], []
    for side in ("left", "right"):
        e = face[_EYE[side]]
        lids = (abs(e[1] - e[5]) + abs(e[2] - e[4])) / 2
        eyes.append(lids / (abs(e[0] - e[3]) or 1.0))
        brows.append(-(face[_BROW[side]].mean() - e.mean()).imag / height)
    gap = (face[_F["lowerLipTopMid"]] - face[_F["upperLipBottomMid"]]).imag / height
    mouth = abs(face[_F["leftMouthCorner"]] - face[_F["rightMouthCorner"]]) / width
    return Expression(np.array(eyes), np.array(brows), float(gap), float(mouth))


def apply(rest_face: np.ndarray, seen: Expression, neutral: Expression) -> np.ndarray:
    """The character's rest face (complex, upright) wearing the expression ``seen``,
    read against the person's ``neutral``."""
    face = rest_face.copy()
    height = abs(rest_face[_F["topMid"]] - rest_face[_F["jawMid"]]) or 1.0
    for k, side in enumerate(("left", "right")):
        idx = _EYE[side]
        face[idx] = _squash(face[idx], face[idx[0]], face[idx[3]], eye_opening(seen.eyes[k], neutral.eyes[k]))
        lift = float(np.clip(seen.brows[k] - neutral.brows[k], -0.05, 0.08)) * height
        face[_BROW[side]] -= 1j * lift
    drop = float(np.clip(seen.mouth_open - neutral.mouth_open, 0.0, 0.25)) * height
    face[_LOWER_LIP] += 1j * drop
    face[_MOUTH_CORNERS] += 0.4j * drop
    face[_JAW] += 1j * drop * _JAW_WEIGHT
    widen = float(np.clip(seen.mouth_width / max(neutral.mouth_width, 1e-3), 0.8, 1.3))
    centre = face[_MOUTH].real.mean()
    face[_MOUTH] = centre + widen * (face[_MOUTH].real - centre) + 1j * face[_MOUTH].imag
    return face


def eye_opening(seen: float, neutral: float) -> float:
    """How open to draw an eye, 1 = as drawn. Open as drawn across the person's usual
    range (down to three quarters of their neutral, so a blink's edges and a slight
    squint do not flicker the drawing), shut only when they shut, and up to 15% wider
    when they open their eyes wide."""
    closing = (seen - SHUT_EYE) / max(0.75 * neutral - SHUT_EYE, 1e-3)
    widening = 0.5 * (seen / max(neutral, 1e-3) - 1.0)
    return float(np.clip(closing, 0.0, 1.0) + np.clip(widening, 0.0, 0.15))


def _squash(points: np.ndarray, corner_a: complex, corner_b: complex, factor: float) -> np.ndarray:
    """Scales points towards the line through two corners (an eye closing)."""
    centre = (corner_a + corner_b) / 2
    along = corner_b - corner_a
    u = along / abs(along) if abs(along) > 1e-9 else 1 + 0j
    local = (points - centre) / u
    return centre + u * (local.real + 1j * factor * local.imag)
