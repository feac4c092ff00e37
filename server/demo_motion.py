"""A procedural dance: a pose track as if MediaPipe had tracked a person dancing.

The demo mode needs motion without a camera. We build it from a small 2D skeleton
with realistic proportions (all lengths are fractions of the body height, head top
to ankles), driven by smooth joint-angle curves on a 120 bpm beat:

* legs: a step-touch side to side; the feet are planted and the knees come from a
  two-bone solve, so the hips can bounce on every beat without the feet sliding;
* pelvis and torso: hip sway with a counter-lean, shoulders tilting against the hips;
* arms: four moves, one after the other (both arms up in a V, a wave with the right
  hand, alternating fist pumps, a disco point with the left arm), cross-faded;
* head: bobs on the beat, tilts and turns; the face is a hand-authored neutral 3D
  layout (calibrated on MediaPipe's canonical face) that blinks, smiles, says "oo"
  and lifts its brows, rotated with the head and projected onto the image.

Every curve is periodic in a whole number of beats that divides the loop, so the
track loops seamlessly. The output is in image pixels, not mirrored: the person faces
the camera, so their ``leftShoulder`` is at the larger x.
"""
from __future__ import annotations

import functools

import numpy as np

from .posetrack import BODY_NAMES, FACE_NAMES, PoseFrame, PoseTrack
from .skeleton import mirror_name

BEATS_PER_SECOND = 2.0  # 120 bpm
MOVE_COUNT = 4          # V arms, wave, pump, disco point
BODY_HEIGHT_PER_FRAME = 520 / 640  # body height (head top to ankles) / frame size

# Skeleton, in body heights.
SHOULDER_WIDTH = 0.23
HIP_WIDTH = 0.16
UPPER_ARM = 0.17
FOREARM = 0.15
THIGH = 0.24
SHIN = 0.23
SPINE = 0.30        # hip centre to shoulder centre
NECK = 0.13         # shoulder centre to the head's pivot (top of the neck)
FACE_HEIGHT = 0.13  # topMid to jawMid: the unit of the face layout

# Legs: stance, step and bounce, in body heights.
FOOT_OFFSET = 0.09    # each ankle from the pelvis centre in the narrow stance
STEP = 0.11           # how far a step-touch travels
FOOT_LIFT = 0.035     # how high a stepping foot lifts
HIP_HEIGHT = 0.452    # pelvis above the ankles between beats: knees stay soft
BOUNCE = 0.022        # how far the pelvis drops on each beat
GROUND = 0.49         # the ankle line, in body heights below the frame centre

# --------------------------------------------------------------------------- face
# Neutral face in face heights: x to the person's left (image right), y up, z toward
# the camera; origin halfway between topMid and jawMid. Right side and midline only,
# the left side is the mirror image.
_FACE_RIGHT_HALF = {
    # head outline from the top of the forehead down the right side to the chin
    "topMid": (0.0, 0.50, 0.25), "rightTop0": (-0.20, 0.485, 0.21),
    "rightTop1": (-0.355, 0.405, 0.08), "rightJaw0": (-0.40, 0.34, 0.0),
    "rightJaw1": (-0.43, 0.265, -0.06), "rightJaw2": (-0.44, 0.165, -0.11),
    "rightJaw3": (-0.435, 0.07, -0.14), "rightJaw4": (-0.41, -0.13, -0.13),
    "rightJaw5": (-0.335, -0.32, -0.04), "rightJaw6": (-0.23, -0.42, 0.11),
    "rightJaw7": (-0.13, -0.475, 0.20), "jawMid": (0.0, -0.50, 0.24),
    # brow, outer (0) to inner (4)
    "rightBrow0": (-0.295, 0.25, 0.19), "rightBrow1": (-0.26, 0.275, 0.23),
    "rightBrow2": (-0.21, 0.288, 0.26), "rightBrow3": (-0.15, 0.288, 0.28),
    "rightBrow4": (-0.07, 0.267, 0.29),
    # nose bridge down to the tip, and the right wing
    "nose0": (0.0, 0.17, 0.33), "nose1": (0.0, 0.13, 0.36), "nose2": (0.0, 0.09, 0.385),
    "nose3": (0.0, 0.05, 0.41), "nose4": (0.0, 0.005, 0.43),
    "rightNose0": (-0.09, -0.02, 0.33), "rightNose1": (-0.05, 0.0, 0.395),
    # right eye: outer corner, upper lid, inner corner, lower lid
    "rightEye0": (-0.25, 0.183, 0.18), "rightEye1": (-0.207, 0.204, 0.21),
    "rightEye2": (-0.153, 0.205, 0.22), "rightEye3": (-0.105, 0.179, 0.21),
    "rightEye4": (-0.153, 0.160, 0.21), "rightEye5": (-0.207, 0.162, 0.205),
    # lips, closed: outer upper, inner upper, inner lower, outer lower
    "rightMouthCorner": (-0.135, -0.212, 0.24), "rightUpperLipTop0": (-0.105, -0.183, 0.285),
    "rightUpperLipTop1": (-0.04, -0.157, 0.333), "upperLipTopMid": (0.0, -0.162, 0.338),
    "rightMiddleLip": (-0.12, -0.21, 0.23), "rightUpperLipBottom1": (-0.058, -0.205, 0.28),
    "upperLipBottomMid": (0.0, -0.207, 0.295),
    "rightLowerLipTop0": (-0.062, -0.209, 0.29), "lowerLipTopMid": (0.0, -0.211, 0.30),
    "rightLowerLipBottom0": (-0.104, -0.24, 0.273), "rightLowerLipBottom1": (-0.04, -0.268, 0.308),
    "lowerLipBottomMid": (0.0, -0.272, 0.313),
}

# Expressions: displacement of each point at full strength (right half again).
_OPEN_MOUTH = {  # the jaw drops: lower lip and chin go down
    "upperLipBottomMid": (0, 0.01, 0), "rightUpperLipBottom1": (0, 0.008, 0),
    "lowerLipTopMid": (0, -0.07, 0), "rightLowerLipTop0": (0, -0.06, 0),
    "lowerLipBottomMid": (0, -0.075, 0), "rightLowerLipBottom1": (0, -0.07, 0),
    "rightLowerLipBottom0": (0, -0.05, 0),
    "rightMouthCorner": (0.005, -0.02, 0), "rightMiddleLip": (0.005, -0.02, 0),
    "jawMid": (0, -0.05, 0), "rightJaw7": (0, -0.045, 0), "rightJaw6": (0, -0.03, 0),
    "rightJaw5": (0, -0.01, 0),
}
_SMILE = {  # corners out and up
    "rightMouthCorner": (-0.025, 0.03, -0.01), "rightMiddleLip": (-0.025, 0.028, -0.01),
    "rightUpperLipTop0": (-0.012, 0.012, 0), "rightLowerLipBottom0": (-0.015, 0.015, 0),
    "rightUpperLipBottom1": (-0.005, 0.005, 0), "rightLowerLipTop0": (-0.005, 0.008, 0),
    "rightLowerLipBottom1": (0, 0.005, 0),
    "rightEye4": (0, 0.004, 0), "rightEye5": (0, 0.004, 0),  # cheeks push the lower lids
}
_OO = {  # lips pushed forward into a small round opening
    "rightMouthCorner": (0.045, -0.005, 0.03), "rightMiddleLip": (0.045, -0.007, 0.03),
    "rightUpperLipTop0": (0.03, 0.005, 0.03), "rightLowerLipBottom0": (0.03, -0.01, 0.03),
    "rightUpperLipTop1": (0.01, 0.005, 0.02), "rightLowerLipBottom1": (0.01, -0.01, 0.02),
    "upperLipTopMid": (0, 0.005, 0.03), "lowerLipBottomMid": (0, -0.01, 0.03),
    "upperLipBottomMid": (0, 0.012, 0.02), "rightUpperLipBottom1": (0.02, 0.01, 0.02),
    "lowerLipTopMid": (0, -0.03, 0.02), "rightLowerLipTop0": (0.02, -0.025, 0.02),
    "jawMid": (0, -0.02, 0), "rightJaw7": (0, -0.015, 0),
}
_BROWS_UP = {
    "rightBrow0": (0, 0.025, 0), "rightBrow1": (0, 0.033, 0), "rightBrow2": (0, 0.037, 0),
    "rightBrow3": (0, 0.04, 0), "rightBrow4": (0, 0.04, 0),
}
# Each upper-lid point closes onto the lower-lid point below it.
_LID_PAIRS = (("rightEye1", "rightEye5"), ("rightEye2", "rightEye4"))
_EARS = (0.46, 0.15, -0.2)            # left ear; just outside Jaw2/Jaw3, near eye height
_PIVOT = np.array([0.0, -0.2, -0.3])  # where the neck holds the head, in face heights


def _symmetric(right_half: dict) -> np.ndarray:
    """(73, 3) array in FACE_NAMES order; left points mirror their right twins (x -> -x)."""
    points = np.zeros((len(FACE_NAMES), 3))
    for i, name in enumerate(FACE_NAMES):
        if name in right_half:
            points[i] = right_half[name]
        elif mirror_name(name) in right_half:
            points[i] = right_half[mirror_name(name)]
            points[i, 0] *= -1
    return points


def _blink_displacement() -> np.ndarray:
    """Lids meeting a fifth of the way up from the lower lid."""
    lids = {}
    for upper, lower in _LID_PAIRS:
        upper_y, lower_y = _FACE_RIGHT_HALF[upper][1], _FACE_RIGHT_HALF[lower][1]
        meet_y = lower_y + 0.2 * (upper_y - lower_y)
        lids[upper] = (0, meet_y - upper_y, 0)
        lids[lower] = (0, meet_y - lower_y, 0)
    return _symmetric(lids)


FACE_NEUTRAL = _symmetric(_FACE_RIGHT_HALF)
assert all(name in _FACE_RIGHT_HALF or mirror_name(name) in _FACE_RIGHT_HALF
           for name in FACE_NAMES)
_EXPRESSIONS = {  # channel name -> displacement at full strength
    "open": _symmetric(_OPEN_MOUTH), "smile": _symmetric(_SMILE), "oo": _symmetric(_OO),
    "brow": _symmetric(_BROWS_UP), "blink": _blink_displacement(),
}


def _face_index(name: str) -> int:
    return FACE_NAMES.index(name)


def _head_landmarks_local() -> np.ndarray:
    """Pose's nose, eyes and ears (HEAD_LANDMARKS order) in the neutral face frame."""
    def eye_centre(side):
        return FACE_NEUTRAL[[_face_index(f"{side}Eye{k}") for k in range(6)]].mean(axis=0)
    left_ear = np.array(_EARS)
    right_ear = left_ear * [-1, 1, 1]
    return np.array([FACE_NEUTRAL[_face_index("nose4")], eye_centre("left"),
                     eye_centre("right"), left_ear, right_ear])


HEAD_LANDMARKS_LOCAL = _head_landmarks_local()

# ------------------------------------------------------------------------ curves


def _lerp(a, b, w):
    return a + (b - a) * w


def _smoothstep(x):
    """0 -> 1 with zero slope and curvature at both ends (smootherstep)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)


def _on_beat(beats, sharpness: int = 4):
    """1 on every beat, falling to 0 halfway between: a bounce accent."""
    return np.cos(np.pi * beats) ** sharpness


def _alternate(beats, hold: float = 0.0):
    """0 on even beats, 1 on odd beats, easing in and out; ``hold`` (0..1) lingers longer
    on each pose at the price of a faster swing between them."""
    eased = 0.5 - 0.5 * np.cos(np.pi * beats)
    return _lerp(eased, _smoothstep(eased), hold)


def _unit(angle_deg):
    """Direction at a clockwise angle from straight up (90 = toward image right), y up."""
    a = np.radians(angle_deg)
    return np.stack([np.sin(a), np.cos(a)], axis=-1)


# ------------------------------------------------------------------- choreography
# A move maps beats (global, so a move's phase doesn't depend on when it starts) to
# channels: arm angles in degrees (abduction from hanging down, elbow bend continuing
# the same way; "l_"/"r_" = the person's left/right), torso lean, head yaw/pitch/roll,
# and face expression strengths 0..1. Channels a move leaves out are 0.

_HAND_ON_HIP = (38.0, -100.0)  # abduction, elbow: the forearm folds back to the waist


def _move_v_arms(b):
    """Both arms up in a V, stretching up on each beat: 'hey!'."""
    accent = _on_beat(b, 2)
    abd, elbow = 135 + 10 * accent, 22 - 16 * accent
    return dict(l_abd=abd, l_elb=elbow, r_abd=abd, r_elb=elbow, pitch=-5,
                open=0.15 + 0.3 * accent, smile=0.9, brow=0.7 * accent)


def _move_wave(b):
    """Wave with the right hand (the forearm swings once a beat), left hand on the hip."""
    return dict(r_abd=100 + 5 * _on_beat(b, 2), r_elb=70 + 28 * np.sin(2 * np.pi * b),
                l_abd=_HAND_ON_HIP[0], l_elb=_HAND_ON_HIP[1],
                lean=-3, yaw=-14, roll=-6,
                open=0.25, smile=1.0, brow=0.3 * _on_beat(b, 2))


def _move_pump(b):
    """Alternating fist pumps: one fist punches up on each beat, the other drops to guard."""
    right_up = _alternate(b)  # the left fist is up on even beats, the right on odd
    guard, punch = np.array([50.0, 115.0]), np.array([160.0, 10.0])
    left = _lerp(punch[:, None], guard[:, None], right_up)
    right = _lerp(guard[:, None], punch[:, None], right_up)
    accent = _on_beat(b)
    return dict(l_abd=left[0], l_elb=left[1], r_abd=right[0], r_elb=right[1],
                lean=4 * (1 - 2 * right_up), pitch=6 * accent,
                open=0.55 * accent, smile=0.4, brow=0.6 * accent)


def _move_disco(b):
    """Left arm points up and out, then down across the body, two beats each (the
    half-time keeps the hand at a speed a camera can follow); right hand on the hip."""
    down = _alternate(b / 2, hold=0.5)
    # Quadratic Bezier in angle space: the bent-elbow middle key carries the hand in
    # front of the chest instead of sweeping it round the outside.
    keys = np.array([[150.0, 5.0], [100.0, -150.0], [-30.0, 5.0]])  # (abduction, elbow)
    w = down[None]
    arm = ((1 - w) ** 2 * keys[0, :, None] + 2 * w * (1 - w) * keys[1, :, None]
           + w ** 2 * keys[2, :, None])
    return dict(l_abd=arm[0], l_elb=arm[1],
                r_abd=_HAND_ON_HIP[0], r_elb=_HAND_ON_HIP[1],
                lean=_lerp(6, -3, down), yaw=_lerp(16, -6, down), pitch=_lerp(-10, 7, down),
                roll=_lerp(6, -3, down), open=0.3, oo=_lerp(1.0, 0.2, down),
                brow=0.8 * (1 - down))


MOVES = (_move_v_arms, _move_wave, _move_pump, _move_disco)
CHANNELS = ("l_abd", "l_elb", "r_abd", "r_elb", "lean", "yaw", "pitch", "roll",
            "open", "smile", "oo", "brow")


def _move_weights(b, n_beats: int) -> np.ndarray:
    """(MOVE_COUNT, n) weights summing to 1: each move owns an equal slice of the loop,
    cross-faded with its neighbours (wrapping round at the loop's end)."""
    beats_per_move = n_beats / MOVE_COUNT
    # Fade over 1.5 beats, ending on a move's first beat: t = 0 is a clean pose.
    position = ((b + 0.75) / beats_per_move) % MOVE_COUNT    # in moves
    half_fade = min(0.5, 0.75 / beats_per_move)
    centres = np.arange(MOVE_COUNT) + 0.5
    distance = np.abs((position[None] - centres[:, None] + MOVE_COUNT / 2) % MOVE_COUNT
                      - MOVE_COUNT / 2)
    # smoothstep(a) + smoothstep(1 - a) == 1, so neighbours' weights always sum to 1.
    return _smoothstep((0.5 + half_fade - distance) / (2 * half_fade))


def _choreography(b, n_beats: int, loop_phase) -> dict:
    """All channels at beats ``b``: the moves blended, plus the groove under them."""
    weights = _move_weights(b, n_beats)
    channels = {name: np.zeros_like(b) for name in CHANNELS}
    for weight, move in zip(weights, MOVES):
        for name, value in move(b).items():
            channels[name] = channels[name] + weight * value
    sway = np.cos(2 * np.pi * b / 4)  # +1 when the hips are over the left foot
    accent = _on_beat(b)
    channels["lean"] += -3 * sway                        # counter the hip sway
    channels["pitch"] += 7 * accent                      # head bob: nod on the beat
    channels["roll"] += 7 * np.sin(2 * np.pi * loop_phase * 2) + 3 * sway
    channels["yaw"] += 5 * np.sin(2 * np.pi * b / 4)
    for side in ("l_elb", "r_elb"):
        channels[side] += 6 * accent                     # arms breathe with the bounce
    for name in ("open", "smile", "oo", "brow"):
        channels[name] = np.clip(channels[name], 0.0, 1.0)
    return channels


# ------------------------------------------------------------------- the skeleton

def _feet(b):
    """Ankles (left, right), each (n, 2) in body heights, y up from the ground.

    A step-touch over four beats: the right foot steps out, the left closes, the left
    steps back out, the right closes. Each step lands on a beat; the foot travels and
    lifts in the half beat before it.
    """
    cycle = b % 4
    def moved(start, distance):
        progress = (cycle - start) / 0.55
        lift = FOOT_LIFT * np.sin(np.pi * np.clip(progress, 0, 1)) ** 2
        return distance * _smoothstep(progress), lift
    r_out, r_out_lift = moved(0.4, -STEP)
    l_in, l_in_lift = moved(1.4, -STEP)
    l_out, l_out_lift = moved(2.4, STEP)
    r_in, r_in_lift = moved(3.4, STEP)
    left = np.stack([FOOT_OFFSET + STEP / 2 + l_in + l_out, l_in_lift + l_out_lift], axis=-1)
    right = np.stack([-FOOT_OFFSET + STEP / 2 + r_out + r_in, r_out_lift + r_in_lift], axis=-1)
    return left, right


def _pelvis(b):
    """Pelvis centre (n, 2) and roll in degrees (positive: left hip up)."""
    sway = np.cos(2 * np.pi * b / 4)  # follows the weight: +1 over the left foot
    x = STEP / 2 * sway + 0.008 * np.sin(2 * np.pi * b / 2)
    y = HIP_HEIGHT - BOUNCE * _on_beat(b)
    return np.stack([x, y], axis=-1), 5 * sway


def _two_bone(root, target, upper, lower, outward):
    """Middle joint of a two-bone limb from root toward target, bending to the ``outward``
    side (+1 / -1 in x). Out-of-reach targets get a straight limb, so lengths hold."""
    span = target - root
    distance = np.linalg.norm(span, axis=-1, keepdims=True)
    along = span / np.maximum(distance, 1e-9)
    distance = np.clip(distance, abs(upper - lower) + 1e-6, upper + lower)
    a = (upper ** 2 - lower ** 2 + distance ** 2) / (2 * distance)
    h = np.sqrt(np.maximum(upper ** 2 - a ** 2, 0.0))
    normal = np.stack([along[:, 1], -along[:, 0]], axis=-1)
    normal *= np.sign(normal[:, :1] * outward + 1e-12)
    middle = root + a * along + h * normal
    end = root + distance * along
    return middle, end


def _arm(shoulder, torso_cw, abduction, elbow, side):
    """Elbow and wrist by forward kinematics; side +1 for the left arm (image right)."""
    upper_cw = side * (180 - abduction) + torso_cw
    fore_cw = side * (180 - abduction - elbow) + torso_cw
    elbow_pos = shoulder + UPPER_ARM * _unit(upper_cw)
    return elbow_pos, elbow_pos + FOREARM * _unit(fore_cw)


def _rotations(roll_cw, pitch, yaw):
    """(n, 3, 3): turn (yaw, +: face toward image right), nod (pitch, +: chin down),
    then tilt in the image plane (roll, clockwise), all in degrees."""
    r, p, w = (np.radians(a) for a in (roll_cw, pitch, yaw))
    one, zero = np.ones_like(r), np.zeros_like(r)
    def matrix(rows):
        return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)
    turn = matrix([[np.cos(w), zero, np.sin(w)], [zero, one, zero],
                   [-np.sin(w), zero, np.cos(w)]])
    nod = matrix([[one, zero, zero], [zero, np.cos(p), -np.sin(p)],
                  [zero, np.sin(p), np.cos(p)]])
    tilt = matrix([[np.cos(r), np.sin(r), zero], [-np.sin(r), np.cos(r), zero],
                   [zero, zero, one]])
    return tilt @ nod @ turn


def _blink(t, seconds: float):
    """Lid closure 0..1: a ~0.15 s blink about every 3 s, fully shut for 0.05 s."""
    count = max(1, round(seconds / 3))
    centres = (np.arange(count) + 0.35) * seconds / count
    offset = (t[:, None] - centres[None] + seconds / 2) % seconds - seconds / 2
    return (1 - _smoothstep((np.abs(offset) - 0.025) / 0.05)).max(axis=1)


def _face_local(channels, closure) -> np.ndarray:
    """(n, 73, 3) face points in face heights, with this frame's expression."""
    strengths = dict(channels, blink=closure)
    face = np.broadcast_to(FACE_NEUTRAL, (len(closure),) + FACE_NEUTRAL.shape).copy()
    for name, displacement in _EXPRESSIONS.items():
        face += strengths[name][:, None, None] * displacement
    return face


def _project_head(points_local, pivot, rotation):
    """Face-frame points (n, k, 3) -> world (n, k, 2), turned about the neck pivot."""
    turned = np.einsum("nij,nkj->nki", rotation, points_local - _PIVOT)
    return pivot[:, None] + FACE_HEIGHT * turned[..., :2]


def _skeleton(t, seconds: float):
    """Body joints (n, 17, 2) and face (n, 73, 2) in body heights, y up, origin on the
    ground under the frame centre."""
    n_beats = _beats_in_loop(seconds)
    b = t * n_beats / seconds
    pose = _choreography(b, n_beats, t / seconds)

    pelvis, hip_roll = _pelvis(b)
    hip_axis = _unit(90 - hip_roll)
    left_hip, right_hip = pelvis + HIP_WIDTH / 2 * hip_axis, pelvis - HIP_WIDTH / 2 * hip_axis
    left_foot, right_foot = _feet(b)
    left_knee, left_ankle = _two_bone(left_hip, left_foot, THIGH, SHIN, +1)
    right_knee, right_ankle = _two_bone(right_hip, right_foot, THIGH, SHIN, -1)

    lean = pose["lean"]
    neck_base = pelvis + SPINE * _unit(lean)
    torso_cw = lean + 0.6 * hip_roll  # shoulders tilt against the hips
    shoulder_axis = _unit(90 + torso_cw)
    left_shoulder = neck_base + SHOULDER_WIDTH / 2 * shoulder_axis
    right_shoulder = neck_base - SHOULDER_WIDTH / 2 * shoulder_axis
    left_elbow, left_wrist = _arm(left_shoulder, torso_cw, pose["l_abd"], pose["l_elb"], +1)
    right_elbow, right_wrist = _arm(right_shoulder, torso_cw, pose["r_abd"], pose["r_elb"], -1)

    head_pivot = neck_base + NECK * _unit(lean + 0.4 * pose["roll"])  # the neck bends too
    rotation = _rotations(lean + pose["roll"], pose["pitch"], pose["yaw"])
    face = _project_head(_face_local(pose, _blink(t, seconds)), head_pivot, rotation)
    head = _project_head(np.broadcast_to(HEAD_LANDMARKS_LOCAL, (len(t), 5, 3)),
                         head_pivot, rotation)

    joints = np.stack([left_shoulder, right_shoulder, left_elbow, right_elbow,
                       left_wrist, right_wrist, left_hip, right_hip,
                       left_knee, right_knee, left_ankle, right_ankle], axis=1)
    return np.concatenate([joints, head], axis=1), face


def _beats_in_loop(seconds: float) -> int:
    """Beats per loop: near 120 bpm, rounded to whole step-touch cycles of four beats
    (so each of the four moves also gets a whole number of beats)."""
    return 4 * max(1, round(seconds * BEATS_PER_SECOND / 4))


def _confidence(t, seconds: float) -> np.ndarray:
    """(n, 17) visibility in 0.93..0.99, wandering a little like a real tracker's."""
    phases = np.arange(len(BODY_NAMES)) * 2.399  # golden angle: joints out of step
    return 0.96 + 0.03 * np.sin(2 * np.pi * 3 * t[:, None] / seconds + phases[None])


def demo_pose(times, seconds: float = 8.0, width: int = 640, height: int = 640):
    """The dance at any ``times`` (seconds, periodic in ``seconds``), in image pixels:
    body (n, 17, 3) in BODY_NAMES order with confidence, and face (n, 73, 2)."""
    t = np.atleast_1d(np.asarray(times, dtype=float))
    joints, face = _skeleton(t, seconds)
    scale = BODY_HEIGHT_PER_FRAME * min(width, height)  # pixels per body height
    ground_y = height / 2 + GROUND * scale
    def to_image(points):  # y up in body heights -> y down in pixels
        return np.stack([width / 2 + points[..., 0] * scale,
                         ground_y - points[..., 1] * scale], axis=-1)
    body = np.concatenate([to_image(joints), _confidence(t, seconds)[..., None]], axis=-1)
    return body, to_image(face)


def make_demo_track(seconds: float = 8.0, fps: float = 30.0,
                    width: int = 640, height: int = 640) -> PoseTrack:
    """A seamlessly looping dance: frame i at i/fps, ``round(seconds * fps)`` frames."""
    count = round(seconds * fps)
    times = np.arange(count) / fps
    body, face = demo_pose(times, seconds, width, height)
    face_conf = 0.95 + 0.01 * np.sin(2 * np.pi * 2 * times / seconds)
    frames = [PoseFrame(float(t), body[i], face[i], float(face_conf[i]))
              for i, t in enumerate(times)]
    return PoseTrack(width, height, float(fps), frames, source="demo")


@functools.lru_cache(maxsize=1)
def demo_track() -> PoseTrack:
    """The default demo track, built once. Shared: callers must not mutate it."""
    return make_demo_track()
