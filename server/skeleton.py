"""The skeleton vocabulary shared by every module: joint names, bones, bone groups.

Names follow the character's own anatomy (the character's ``leftShoulder`` is on
the viewer's right), exactly as in the original Pose Animator rig format.
"""
from __future__ import annotations

BODY_JOINTS = (
    "leftShoulder", "rightShoulder", "leftElbow", "rightElbow", "leftWrist", "rightWrist",
    "leftHip", "rightHip", "leftKnee", "rightKnee", "leftAnkle", "rightAnkle",
)

# Face joint -> MediaPipe FaceMesh vertex index (DESIGN.md section 1).
FACE_MESH_INDEX = {
    "topMid": 10, "rightTop0": 67, "rightTop1": 54, "leftTop0": 297, "leftTop1": 284,
    "rightJaw0": 21, "rightJaw1": 162, "rightJaw2": 127, "rightJaw3": 234, "rightJaw4": 132,
    "rightJaw5": 172, "rightJaw6": 150, "rightJaw7": 176, "jawMid": 152,
    "leftJaw7": 400, "leftJaw6": 379, "leftJaw5": 397, "leftJaw4": 361, "leftJaw3": 454,
    "leftJaw2": 356, "leftJaw1": 389, "leftJaw0": 251,
    "rightBrow0": 46, "rightBrow1": 53, "rightBrow2": 52, "rightBrow3": 65, "rightBrow4": 55,
    "leftBrow4": 285, "leftBrow3": 295, "leftBrow2": 282, "leftBrow1": 283, "leftBrow0": 276,
    "nose0": 6, "nose1": 197, "nose2": 195, "nose3": 5,
    "rightNose0": 48, "rightNose1": 220, "nose4": 4, "leftNose1": 440, "leftNose0": 278,
    "rightEye0": 33, "rightEye1": 160, "rightEye2": 158, "rightEye3": 133, "rightEye4": 153,
    "rightEye5": 144,
    "leftEye3": 362, "leftEye2": 385, "leftEye1": 387, "leftEye0": 263, "leftEye5": 373,
    "leftEye4": 380,
    "rightMouthCorner": 61, "rightUpperLipTop0": 40, "rightUpperLipTop1": 37, "upperLipTopMid": 0,
    "leftUpperLipTop1": 267, "leftUpperLipTop0": 270, "leftMouthCorner": 291,
    "leftLowerLipBottom0": 321, "leftLowerLipBottom1": 314, "lowerLipBottomMid": 17,
    "rightLowerLipBottom1": 84, "rightLowerLipBottom0": 91,
    "rightMiddleLip": 78, "rightUpperLipBottom1": 81, "upperLipBottomMid": 13,
    "leftUpperLipBottom1": 311, "leftMiddleLip": 308,
    "leftLowerLipTop0": 402, "lowerLipTopMid": 14, "rightLowerLipTop0": 178,
}
FACE_JOINTS = tuple(FACE_MESH_INDEX)
ALL_JOINTS = BODY_JOINTS + FACE_JOINTS
JOINT_INDEX = {name: i for i, name in enumerate(ALL_JOINTS)}

# MediaPipe Pose landmark indices (the person's own left/right).
POSE_LANDMARK_INDEX = {
    "nose": 0, "leftEye": 2, "rightEye": 5, "leftEar": 7, "rightEar": 8,
    "leftShoulder": 11, "rightShoulder": 12, "leftElbow": 13, "rightElbow": 14,
    "leftWrist": 15, "rightWrist": 16, "leftHip": 23, "rightHip": 24,
    "leftKnee": 25, "rightKnee": 26, "leftAnkle": 27, "rightAnkle": 28,
}
HEAD_LANDMARKS = ("nose", "leftEye", "rightEye", "leftEar", "rightEar")


def _chain(*names: str) -> list[tuple[str, str]]:
    return list(zip(names[:-1], names[1:]))


def _loop(*names: str) -> list[tuple[str, str]]:
    return _chain(*names, names[0])


BODY_BONE_GROUPS: dict[str, list[tuple[str, str]]] = {
    "torso": [("leftShoulder", "rightShoulder"), ("rightShoulder", "rightHip"),
              ("leftHip", "rightHip"), ("leftShoulder", "leftHip")],
    "leftArm": _chain("leftShoulder", "leftElbow", "leftWrist"),
    "rightArm": _chain("rightShoulder", "rightElbow", "rightWrist"),
    "leftLeg": _chain("leftHip", "leftKnee", "leftAnkle"),
    "rightLeg": _chain("rightHip", "rightKnee", "rightAnkle"),
}

FACE_BONES: list[tuple[str, str]] = (
    # head outline, both sides from the top of the forehead to the chin (18)
    _chain("topMid", "rightTop0", "rightTop1", "rightJaw2", "rightJaw3", "rightJaw4",
           "rightJaw5", "rightJaw6", "rightJaw7", "jawMid")
    + _chain("topMid", "leftTop0", "leftTop1", "leftJaw2", "leftJaw3", "leftJaw4",
             "leftJaw5", "leftJaw6", "leftJaw7", "jawMid")
    # eyes: closed loops of 6 (12)
    + _loop("leftEye0", "leftEye1", "leftEye2", "leftEye3", "leftEye4", "leftEye5")
    + _loop("rightEye0", "rightEye1", "rightEye2", "rightEye3", "rightEye4", "rightEye5")
    # brows: chains of 5 points (8)
    + _chain("leftBrow0", "leftBrow1", "leftBrow2", "leftBrow3", "leftBrow4")
    + _chain("rightBrow0", "rightBrow1", "rightBrow2", "rightBrow3", "rightBrow4")
    # nose (8)
    + _chain("nose0", "nose1", "nose2", "nose3", "nose4")
    + _chain("leftNose0", "leftNose1", "nose4")
    + _chain("rightNose0", "rightNose1", "nose4")
    # lips: outer upper 6, inner upper 6, inner lower 4, outer lower 6 (22)
    + _chain("leftMouthCorner", "leftUpperLipTop0", "leftUpperLipTop1", "upperLipTopMid")
    + _chain("rightMouthCorner", "rightUpperLipTop0", "rightUpperLipTop1", "upperLipTopMid")
    + _chain("leftMouthCorner", "leftMiddleLip", "leftUpperLipBottom1", "upperLipBottomMid")
    + _chain("rightMouthCorner", "rightMiddleLip", "rightUpperLipBottom1", "upperLipBottomMid")
    + _chain("leftMiddleLip", "leftLowerLipTop0", "lowerLipTopMid")
    + _chain("rightMiddleLip", "rightLowerLipTop0", "lowerLipTopMid")
    + _chain("leftMouthCorner", "leftLowerLipBottom0", "leftLowerLipBottom1", "lowerLipBottomMid")
    + _chain("rightMouthCorner", "rightLowerLipBottom0", "rightLowerLipBottom1",
             "lowerLipBottomMid")
)

# Two derived joints give the head something to hang on: the neck sits between the
# shoulders, the chin joint is the face's jawMid. Their bone carries the neck drawing.
NECK_JOINT = "neck"
NECK_BONE = (NECK_JOINT, "jawMid")

assert len(FACE_BONES) == 68, len(FACE_BONES)
assert sum(len(b) for b in BODY_BONE_GROUPS.values()) == 12


def mirror_name(name: str) -> str:
    """leftX <-> rightX; names without a side are their own mirror."""
    if name.startswith("left"):
        return "right" + name[4:]
    if name.startswith("right"):
        return "left" + name[5:]
    return name


def match_joint_name(element_id: str | None) -> str | None:
    """The joint an element id names, by prefix as Illustrator and Inkscape write them.

    ``rightEye0_1_`` and ``leftWrist-3`` name joints; ``leftShoulderPad`` does not.
    """
    if not element_id:
        return None
    best = None
    for name in _NAMES_LONGEST_FIRST:
        if element_id.startswith(name):
            rest = element_id[len(name):]
            if rest == "" or rest[0] in "_-. ":
                best = name
                break
    return best


_NAMES_LONGEST_FIRST = sorted(ALL_JOINTS, key=len, reverse=True)
