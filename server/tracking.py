"""Landmarks from pictures: MediaPipe Pose for the body, FaceMesh on a head crop for the face.

The face is found inside a crop around the head that the pose gives, so small faces
in full-body shots are tracked too (FaceMesh alone misses them). Models come from
the mediapipe 0.10.21 wheel; nothing is downloaded. A Tracker holds stateful graphs:
use one per video or live client, from one thread at a time.
"""
from __future__ import annotations

import os

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import io  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import cv2  # noqa: E402  (from opencv-contrib-python, brought by mediapipe)
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from .posetrack import BODY_NAMES, PoseFrame  # noqa: E402
from .skeleton import FACE_MESH_INDEX, POSE_LANDMARK_INDEX  # noqa: E402

FACE_CROP_SIZE = 256
FACE_CROP_SCALE = 3.2      # crop side = this x the ear-to-ear (or eye) distance
MIN_POSE_PRESENCE = 0.5
MIN_SHOULDER_CONFIDENCE = 0.5
_B = {n: i for i, n in enumerate(BODY_NAMES)}
_BODY_LANDMARKS = np.array([POSE_LANDMARK_INDEX[n] for n in BODY_NAMES])
_FACE_VERTICES = np.array(list(FACE_MESH_INDEX.values()))


class ImageError(ValueError):
    """The picture cannot be used (not an image, empty, absurd size)."""


MAX_PIXELS = 4096 * 4096
# MediaPipe's image warps (OpenCV remap) abort the whole process on a side of 32767
# pixels or more, whatever the pixel count: no frame gets near that.
MAX_SIDE = 8192


def as_rgb(image) -> np.ndarray:
    """Any numpy picture (gray, RGB, RGBA, views, odd widths) as contiguous uint8 RGB."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(f"expected an H x W, H x W x 3 or H x W x 4 image, got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ImageError(f"the image is too small ({arr.shape[1]} x {arr.shape[0]})")
    _check_size(arr.shape[1], arr.shape[0], MAX_PIXELS, "image")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating):
            arr = np.clip(arr * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        elif arr.dtype == np.uint16:
            arr = (arr >> 8).astype(np.uint8)
        else:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 4:
        # Composite on white: transparent pixels would otherwise turn black.
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = (arr[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _check_size(width: int, height: int, max_pixels: int, what: str) -> None:
    if width * height > max_pixels or max(width, height) > MAX_SIDE:
        raise ImageError(f"the {what} is too large ({width} x {height}; at most {max_pixels:,} "
                         f"pixels and {MAX_SIDE} a side)")


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """JPEG/PNG/... bytes -> RGB array, or ImageError with a readable reason."""
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise ImageError("the frame is empty")
    buf = np.frombuffer(data, dtype=np.uint8)
    # Read the header first so a tiny file claiming 20000 x 20000 is refused cheaply.
    try:
        with Image.open(io.BytesIO(bytes(data))) as im:
            w, h = im.size
    except Image.DecompressionBombError:
        raise ImageError("the frame is too large") from None
    except Exception:
        raise ImageError("the frame is not a readable image") from None
    _check_size(w, h, max_pixels, "frame")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise ImageError("the frame is not a readable image")
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


class Tracker:
    def __init__(self, static_image_mode: bool = False):
        import mediapipe as mp
        self.static = static_image_mode
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=static_image_mode, model_complexity=1,
            smooth_landmarks=False, enable_segmentation=False)
        self._face = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=static_image_mode, max_num_faces=1, refine_landmarks=False,
            min_detection_confidence=0.5, min_tracking_confidence=0.5)
        # On video the face crop comes from the previous frame's head, so FaceMesh runs
        # beside Pose on the other core instead of after it (about 4 ms less per frame).
        self._face_worker = None if static_image_mode else ThreadPoolExecutor(1, "face-mesh")
        self._previous_body: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the person tracked so far (a new client takes this tracker over).
        Restarting the graphs keeps their loaded models: far cheaper than new ones."""
        self._pose.reset()
        self._face.reset()
        self._previous_body = None

    def close(self) -> None:
        if self._face_worker is not None:
            self._face_worker.shutdown(wait=True)
        self._pose.close()
        self._face.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def process(self, image, t: float = 0.0) -> PoseFrame:
        rgb = as_rgb(image)
        h, w = rgb.shape[:2]
        early_face = None
        if self._face_worker is not None and self._previous_body is not None:
            early_face = self._face_worker.submit(self._face_from_crop, rgb, self._previous_body)
        result = self._pose.process(rgb)
        face, face_conf = early_face.result() if early_face is not None else (None, 0.0)
        body = None
        if result.pose_landmarks is not None:
            lm = result.pose_landmarks.landmark
            body = np.array([[lm[i].x * w, lm[i].y * h, _confidence(lm[i])] for i in _BODY_LANDMARKS])
            if not np.isfinite(body).all():
                body = None
        if body is not None and early_face is None:
            face, face_conf = self._face_from_crop(rgb, body)
        if body is not None and not plausible_person(body, face, w, h):
            body = None
        self._previous_body = body
        if body is None:
            return PoseFrame(t)
        return PoseFrame(t, body, face, face_conf)

    def _face_from_crop(self, rgb: np.ndarray, body: np.ndarray):
        head = body[len(BODY_NAMES) - 5:]                 # nose, eyes, ears
        if head[:, 2].max() < 0.3:
            return None, 0.0
        centre = head[:, :2].mean(axis=0)
        span = max(np.linalg.norm(head[3, :2] - head[4, :2]), 2.2 * np.linalg.norm(head[1, :2] - head[2, :2]))
        side = max(span * FACE_CROP_SCALE, 24.0)
        to_crop = _upright_crop(centre, _head_up(body), FACE_CROP_SIZE / side, FACE_CROP_SIZE)
        crop = cv2.warpAffine(rgb, to_crop, (FACE_CROP_SIZE, FACE_CROP_SIZE),
                              flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        result = self._face.process(crop)
        if not result.multi_face_landmarks:
            return None, 0.0
        lm = result.multi_face_landmarks[0].landmark
        in_crop = np.array([[lm[i].x * FACE_CROP_SIZE, lm[i].y * FACE_CROP_SIZE] for i in _FACE_VERTICES])
        back = cv2.invertAffineTransform(to_crop)
        face = in_crop @ back[:, :2].T + back[:, 2]
        if not np.isfinite(face).all():
            return None, 0.0
        # FaceMesh reports no score per face in this API; its presence threshold passed.
        return face, 0.95


def _head_up(body: np.ndarray) -> np.ndarray:
    """Which way is up for the head: from between the shoulders to the head. FaceMesh
    finds upright faces; a handstand's head is upside down in the picture."""
    shoulders = body[[_B["leftShoulder"], _B["rightShoulder"]]]
    head = body[len(BODY_NAMES) - 5:]
    if shoulders[:, 2].min() < MIN_SHOULDER_CONFIDENCE:
        return np.array([0.0, -1.0])
    up = head[:, :2].mean(axis=0) - shoulders[:, :2].mean(axis=0)
    norm = np.linalg.norm(up)
    return up / norm if norm > 1e-9 else np.array([0.0, -1.0])


def _upright_crop(centre: np.ndarray, up: np.ndarray, scale: float, size: int) -> np.ndarray:
    """The 2 x 3 affine map from the picture to a square crop of ``size`` pixels around
    ``centre``, scaled by ``scale`` and turned so that ``up`` points up the crop."""
    sin, cos = up[0], -up[1]               # up = (sin a, -cos a): a = 0 is already upright
    turn = np.array([[cos, sin], [-sin, cos]]) * scale
    return np.column_stack([turn, size / 2 - turn @ centre])


def plausible_person(body: np.ndarray, face, width: int, height: int) -> bool:
    """Is someone really there? MediaPipe also "finds" a whole body, often upside down,
    around a hand held up to the camera. A person counts when their face is seen (on a
    crop turned with the head, so a handstand's face is seen too), or both shoulders
    are, inside the picture and not below the hips."""
    if face is not None:
        return True
    shoulders = body[[_B["leftShoulder"], _B["rightShoulder"]]]
    inside = ((shoulders[:, 0] >= 0) & (shoulders[:, 0] <= width)
              & (shoulders[:, 1] >= 0) & (shoulders[:, 1] <= height))
    if not (inside.all() and (shoulders[:, 2] >= MIN_SHOULDER_CONFIDENCE).all()):
        return False
    up = shoulders[:, :2].mean(axis=0) - body[[_B["leftHip"], _B["rightHip"]], :2].mean(axis=0)
    return bool(up[1] < np.sin(np.radians(10)) * np.hypot(*up))     # leaning at most 100 degrees


def _confidence(landmark) -> float:
    visibility = float(getattr(landmark, "visibility", 1.0))
    presence = float(getattr(landmark, "presence", 1.0)) if landmark.HasField("presence") else 1.0
    return max(0.0, min(1.0, visibility * presence))
