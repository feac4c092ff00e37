"""Fit a human skeleton to a drawing's silhouette, for art MediaPipe cannot read.

Works on the figure's mask (pixels covered by the drawing) and assumes an upright
figure facing the viewer. In order:

* head: the first bump of the row-wise inscribed radius (distance transform) from
  the top, and the neck at the valley below it;
* legs: the gap between the legs at the body axis gives the crotch; each leg's
  centreline is the run of ink nearest the axis on its side; the ankle sits at the
  top of the shoe (the lowest small shape on the leg) when there is one;
* arms: what is left beside the torso, head and legs, attached near the shoulder;
  the hand is the end farthest along the limb, the elbow lies on the limb between;
* everything not seen follows human proportions (Drillis & Contini's segment
  lengths as fractions of body height), e.g. hips 37% of the way from shoulders to
  ankles, knees half way, arms level (the format's own rest pose) if none are drawn.

Coordinates are pixels of the mask (x right, y down) until ``fit_outline`` maps
them to the drawing's user units. The character's left is at larger x.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

# Human proportions, fractions of standing height (Drillis & Contini 1966).
SHOULDER_HEIGHT, HIP_HEIGHT, ANKLE_HEIGHT, CHIN_HEIGHT = 0.818, 0.530, 0.039, 0.870
UPPER_ARM, FOREARM, HAND = 0.186, 0.146, 0.108
HIP_FROM_SHOULDER = (SHOULDER_HEIGHT - HIP_HEIGHT) / (SHOULDER_HEIGHT - ANKLE_HEIGHT)   # 0.37
SHOULDER_BELOW_CHIN = (CHIN_HEIGHT - SHOULDER_HEIGHT) / (CHIN_HEIGHT - ANKLE_HEIGHT)    # 0.063
HIP_HALF_SPAN = 0.095            # hip joint to body axis, in body heights
SHOULDER_IN_TORSO = 0.8          # shoulder joints sit this far out towards the torso's edge
ELBOW_ALONG_ARM = UPPER_ARM / (UPPER_ARM + FOREARM)
BUST_SHOULDER_BELOW_CHIN = 0.25  # head heights from chin to shoulder joints on a bust
BOTTOM_EDGE = 0.01               # a bust's cut is measured this far (x height) above its last row


@dataclass
class MaskFrame:
    """A mask of the figure and how its pixels map onto the drawing's user units."""
    mask: np.ndarray              # (H, W) bool
    origin: np.ndarray            # user units of the pixel grid's top-left corner
    scale: float                  # user units per pixel

    @functools.cached_property
    def figure_rows(self) -> int:
        return int(self.mask.any(axis=1).sum())

    @functools.cached_property
    def inscribed(self) -> np.ndarray:
        """Distance (pixels) from every figure pixel to the outline."""
        return ndi.distance_transform_edt(self.mask)

    def grown(self, margin: float) -> np.ndarray:
        """The mask grown by ``margin`` x the figure's height (cached per margin)."""
        cache = self.__dict__.setdefault("_grown", {})
        if margin not in cache:
            cache[margin] = ndi.binary_dilation(self.mask, iterations=max(1, int(margin * self.figure_rows)))
        return cache[margin]

    def to_user(self, xy) -> np.ndarray:
        return self.origin + np.asarray(xy, dtype=np.float64) * self.scale

    def to_pixels(self, xy) -> np.ndarray:
        return (np.asarray(xy, dtype=np.float64) - self.origin) / self.scale


@dataclass
class OutlineFit:
    joints: dict[str, np.ndarray]              # body joints, user units
    head_box: tuple[float, float, float, float]  # x0, y0, x1, y1 in user units
    seen: dict[str, bool]                      # part -> found in the outline (else proportions)
    notes: list[str] = field(default_factory=list)
    cut_off: bool = False                      # the figure ends at the bottom (a bust)


class _Figure:
    """Measurements of one mask, in pixels."""

    def __init__(self, mask: np.ndarray):
        self.mask = _clean(mask)
        rows = np.flatnonzero(self.mask.any(axis=1))
        if len(rows) == 0:
            raise ValueError("the drawing covers no pixels")
        self.top, self.bottom = int(rows[0]), int(rows[-1]) + 1
        self.height = float(self.bottom - self.top)
        self._measure(self.mask)

    def _measure(self, mask: np.ndarray) -> None:
        self.dist = ndi.distance_transform_edt(mask)[:self.mask.shape[0]]
        self.profile = _smooth(self.dist.max(axis=1), max(1, int(0.012 * self.height)))

    def continue_below(self) -> None:
        """Measure a bust as if its body went on below the picture's edge: the cut is
        not an outline, and the torso's width must not shrink towards it (or the head
        and neck are not found)."""
        edge = self.mask[self.bottom - 1 - int(BOTTOM_EDGE * self.height):self.bottom].any(axis=0)
        below = np.repeat(edge[None, :], int(self.height), axis=0)
        self._measure(np.vstack([self.mask[:self.bottom], below]))

    def run_at(self, y: float, x: float):
        """(start, end) of the ink run in row y containing column x, or None."""
        yi = int(np.clip(round(y), 0, self.mask.shape[0] - 1))
        xi = int(np.clip(round(x), 0, self.mask.shape[1] - 1))
        row = self.mask[yi]
        if not row[xi]:
            return None
        left = xi - np.argmin(row[xi::-1]) + 1 if not row[:xi + 1].all() else 0
        right = xi + (np.argmin(row[xi:]) if not row[xi:].all() else len(row) - xi)
        return float(left), float(right)


SIDES = (("left", 1.0), ("right", -1.0))        # the character's left is at larger x


def fit_outline(frame: MaskFrame, shoe_boxes: list[tuple[float, float, float, float]] = (),
                head_hint: tuple[float, float, float, float] | None = None) -> OutlineFit:
    """A full body skeleton for the mask. ``shoe_boxes``: bounding boxes (user units) of
    the drawing's shapes, used to put ankles at the top of a shoe. ``head_hint``: the
    head's box (user units) when it is known otherwise (a face was found)."""
    fig = _Figure(frame.mask)
    notes: list[str] = []
    head_c, neck_y, head_box, torso = _head_and_torso(fig, frame, head_hint, notes)
    cut_off = _cut_off_at_bottom(fig, torso[2])
    if cut_off:
        fig.continue_below()
        head_c, neck_y, head_box, torso = _head_and_torso(fig, frame, head_hint, [])
    torso_x, torso_y, torso_half = torso
    legs = {} if cut_off else _legs(fig, torso_x, neck_y, torso_half)
    boxes_px = [tuple(frame.to_pixels(b[:2])) + tuple(frame.to_pixels(b[2:])) for b in shoe_boxes]
    ankles = {side: _ankle(fig, legs[side], boxes_px) if side in legs else None for side, _ in SIDES}
    if cut_off:
        shoulder_y, hip_y, ankle_y, body_h = _bust_levels(fig, neck_y, head_box)
    else:
        ankle_y, body_h = _body_height(fig, neck_y, ankles)
    arms = {side: _arm(fig, side, torso_x, torso_half, neck_y, head_box, legs, body_h) for side, _ in SIDES}
    if not cut_off:
        shoulder_y = _shoulder_height(neck_y, ankle_y, arms)
        hip_y = shoulder_y + HIP_FROM_SHOULDER * (ankle_y - shoulder_y)
    span = SHOULDER_IN_TORSO * _half_width_at(fig, torso_x, torso_y, torso_half)
    joints: dict[str, np.ndarray] = {}
    seen = {"torso": True}
    for side, sign in SIDES:
        joints[f"{side}Shoulder"] = np.array([torso_x + sign * span, shoulder_y])
        _place_leg(joints, side, sign, legs.get(side), ankles[side], hip_y, ankle_y, torso_x, body_h, fig)
        seen[f"{side}Leg"] = side in legs and ankles[side] is not None and not cut_off
        seen[f"{side}Arm"] = _place_arm(joints, side, sign, arms[side], fig, body_h)
    user = {n: frame.to_user(p) for n, p in joints.items()}
    return OutlineFit(user, _box_to_user(frame, head_box), seen, notes, cut_off)


def head_box_of(frame: MaskFrame) -> tuple[float, float, float, float]:
    """The head's bounding box (user units), by the same rule the fit uses."""
    _, _, box = _head(_Figure(frame.mask), [])
    return _box_to_user(frame, box)


def _box_to_user(frame: MaskFrame, box) -> tuple[float, float, float, float]:
    x0, y0 = frame.to_user(box[:2])
    x1, y1 = frame.to_user(box[2:])
    return float(x0), float(y0), float(x1), float(y1)


def _head_from_box(frame: MaskFrame, box):
    x0, y0 = frame.to_pixels(box[:2])
    x1, y1 = frame.to_pixels(box[2:])
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2]), float(y1), (float(x0), float(y0), float(x1), float(y1))


def _head_and_torso(fig: "_Figure", frame: MaskFrame, head_hint, notes: list[str]):
    """(head centre, neck row, head box, (torso x, y, half width)), all in pixels."""
    if head_hint is not None:
        head_c, neck_y, head_box = _head_from_box(frame, head_hint)
    else:
        head_c, neck_y, head_box = _head(fig, notes)
    return head_c, neck_y, head_box, _torso(fig, neck_y, head_c)


def _body_height(fig: "_Figure", neck_y: float, ankles: dict):
    """(ankle row, a human's standing height in pixels) of a whole figure."""
    found = [a[1] for a in ankles.values() if a is not None]
    ankle_y = max(found) if found else fig.bottom - ANKLE_HEIGHT * fig.height
    return ankle_y, max(ankle_y - neck_y, 1.0) / (CHIN_HEIGHT - ANKLE_HEIGHT)


def _bust_levels(fig: "_Figure", neck_y: float, head_box):
    """(shoulder, hip, ankle rows, standing height) of a bust. The shoulders sit a little
    below the chin (less than a human's 0.4 head heights: cartoon heads are big), the
    hips at the picture's bottom edge, where the drawn torso stops; the undrawn legs
    hang below with a human's leg-to-torso proportion."""
    head_h = max(neck_y - head_box[1], 1.0)
    below_chin = max(fig.bottom - neck_y, 1.0)
    shoulder_y = neck_y + min(BUST_SHOULDER_BELOW_CHIN * head_h, 0.25 * below_chin)
    hip_y = max(float(fig.bottom), shoulder_y + 0.5 * below_chin)
    body_h = (hip_y - shoulder_y) / (SHOULDER_HEIGHT - HIP_HEIGHT)
    return shoulder_y, hip_y, hip_y + (HIP_HEIGHT - ANKLE_HEIGHT) * body_h, body_h


# ---------------------------------------------------------------- mask

def _clean(mask: np.ndarray) -> np.ndarray:
    """Drop specks, fill small holes (eyes, buttons), keep gaps between limbs."""
    mask = np.asarray(mask, dtype=bool)
    labels, n = ndi.label(mask)
    if n > 1:
        sizes = ndi.sum(mask, labels, index=np.arange(1, n + 1))
        keep = np.flatnonzero(sizes >= 0.002 * sizes.sum()) + 1
        mask = np.isin(labels, keep)
    holes = ndi.binary_fill_holes(mask) & ~mask
    labels, n = ndi.label(holes)
    if n:
        sizes = ndi.sum(holes, labels, index=np.arange(1, n + 1))
        small = np.flatnonzero(sizes < 0.004 * mask.sum()) + 1
        mask = mask | np.isin(labels, small)
    return mask


def _smooth(values: np.ndarray, k: int) -> np.ndarray:
    return ndi.uniform_filter1d(values.astype(np.float64), size=2 * k + 1, mode="nearest")


# ---------------------------------------------------------------- head and torso

def _head(fig: _Figure, notes: list[str]):
    """Head centre, neck row and head box from the inscribed-radius profile."""
    m, top, h = fig.profile, fig.top, fig.height
    window = np.arange(top, min(fig.bottom, int(top + 0.6 * h)))
    strongest = m[window].max() if len(window) else 1.0
    head_y = None
    for y in window[1:-1]:
        if m[y] < 0.3 * strongest or m[y] < m[y - 1] or m[y] < m[y + 1]:
            continue
        below = m[y:min(fig.bottom, int(y + 3 * m[y]) + 1)]
        if below.min() <= 0.75 * m[y]:
            head_y = int(y)
            break
    if head_y is None:
        notes.append("no head shape found at the top: assumed in the top fifth")
        head_y = int(top + 0.1 * h)
    radius = max(float(m[head_y]), 0.04 * h)
    neck_y = _neck(m, head_y, radius, fig.bottom)
    head_x = float(np.argmax(fig.dist[head_y]))
    run = fig.run_at(head_y, head_x) or (head_x - radius, head_x + radius)
    columns = fig.mask[:, int(run[0]):int(run[1]) + 1]
    column_top = np.flatnonzero(columns[:head_y + 1].any(axis=1))
    head_top = float(column_top[0]) if len(column_top) else head_y - radius
    box = (run[0], head_top, run[1], float(neck_y))
    return np.array([head_x, float(head_y)]), float(neck_y), box


def _neck(m: np.ndarray, head_y: int, radius: float, bottom: int) -> int:
    """The first valley of the profile below the head that the body rises out of again."""
    end = min(bottom, int(head_y + 3.0 * radius) + 1)
    segment = m[head_y:end]
    if len(segment) < 3:
        return int(min(bottom - 1, head_y + radius))
    low = int(np.argmin(segment))
    # On a plateau (a neck of constant width) take its middle.
    flat = np.flatnonzero(segment <= segment[low] + 0.05 * radius)
    flat = flat[flat >= low - 1]
    run_end = low
    while run_end + 1 < len(segment) and run_end + 1 in flat:
        run_end += 1
    return int(head_y + (low + run_end) // 2)


def _torso(fig: _Figure, neck_y: float, head_c: np.ndarray):
    """The torso's centre: the thickest point in the upper body, near the head's column."""
    y0 = int(neck_y)
    y1 = int(min(fig.bottom, neck_y + 0.45 * (fig.bottom - neck_y)))
    band = fig.dist[y0:y1].copy()
    if band.size == 0 or band.max() <= 0:
        return float(head_c[0]), float(neck_y), 0.08 * fig.height
    # Prefer points below the head: weigh by closeness to the head's column.
    xs = np.arange(band.shape[1])
    band *= 1.0 / (1.0 + (np.abs(xs - head_c[0]) / (0.35 * fig.height)) ** 2)[None, :]
    y, x = np.unravel_index(np.argmax(band), band.shape)
    return float(x), float(y0 + y), float(fig.dist[y0 + y, x])


def _half_width_at(fig: _Figure, x: float, y: float, fallback: float) -> float:
    run = fig.run_at(y, x)
    if run is None:
        return fallback
    # Arms resting against the body widen the run; the inscribed radius does not see them.
    return float(np.clip(min(x - run[0], run[1] - x), 0.5 * fallback, 1.15 * fallback))


def _shoulder_height(neck_y: float, ankle_y: float, arms: dict) -> float:
    """Level arms give the shoulder line; otherwise human proportions below the chin."""
    level = [a["attach_y"] for a in arms.values() if a is not None and a["level"]]
    if level:
        return float(np.mean(level))
    return neck_y + SHOULDER_BELOW_CHIN * (ankle_y - neck_y)


def _cut_off_at_bottom(fig: _Figure, torso_half: float) -> bool:
    """A bust: the drawing ends in a wide flat edge (the body continues out of frame)."""
    # A row just above the last: stroke ends and rounded corners make the very last
    # row narrower than the cut.
    row = fig.mask[fig.bottom - 1 - int(BOTTOM_EDGE * fig.height)]
    runs = _runs(row)
    widest = max((b - a for a, b in runs), default=0)
    return widest > 1.6 * torso_half and widest > 0.3 * fig.height


# ---------------------------------------------------------------- legs

def _legs(fig: _Figure, axis_x: float, neck_y: float, torso_half: float) -> dict:
    """Each leg's centreline (rows -> x) below the crotch, if the legs are drawn apart."""
    start = int(neck_y + 0.25 * (fig.bottom - neck_y))
    xi = int(round(axis_x))
    rows = np.arange(start, fig.bottom)
    gap = ~fig.mask[rows, xi]
    if not gap.any():
        return {}
    # The crotch: the top of the lowest run of gap rows (it may stop above the feet).
    ends = np.flatnonzero(np.diff(np.r_[gap.astype(int), 0]) == -1)
    last_end = ends[-1]
    begin = last_end
    while begin > 0 and gap[begin - 1]:
        begin -= 1
    if (last_end - begin + 1) < 0.12 * fig.height:
        return {}
    crotch = int(rows[begin])
    legs = {}
    for side, sign in (("left", 1), ("right", -1)):
        centre = {}
        for y in range(crotch, fig.bottom):
            runs = [r for r in _runs(fig.mask[y]) if (r[0] + r[1]) / 2 * sign > axis_x * sign]
            if not runs:
                continue
            near = min(runs, key=lambda r: abs((r[0] + r[1]) / 2 - axis_x))
            if abs((near[0] + near[1]) / 2 - axis_x) > 4 * max(torso_half, 1.0):
                continue
            centre[y] = (near[0] + near[1]) / 2
        if len(centre) > 0.1 * fig.height:
            ys = np.array(sorted(centre))
            legs[side] = {"crotch": crotch, "rows": ys, "x": np.array([centre[y] for y in ys])}
    return legs if len(legs) == 2 else {}


def _leg_x(leg: dict, y: float) -> float:
    return float(np.interp(y, leg["rows"], leg["x"]))


def _ankle(fig: _Figure, leg: dict, boxes_px) -> np.ndarray | None:
    """Ankle: the top part of the shoe if the lowest small shape on the leg is one."""
    bottom = float(leg["rows"][-1]) + 1
    length = bottom - leg["crotch"]
    x_bottom = _leg_x(leg, bottom)
    shoes = [b for b in boxes_px if abs(b[3] - bottom) < 0.03 * fig.height and b[0] <= x_bottom <= b[2]
             and 0.02 * fig.height < b[3] - b[1] < 0.25 * length]
    if shoes:
        shoe = max(shoes, key=lambda b: b[3] - b[1])      # the shoe, not its sole or laces
        y = shoe[1] + 0.3 * (shoe[3] - shoe[1])
    else:
        y = bottom - ANKLE_HEIGHT / (HIP_HEIGHT - ANKLE_HEIGHT) * length
    return np.array([_leg_x(leg, y), y])


def _place_leg(joints, side, sign, leg, ankle, hip_y, ankle_y, axis_x, body_h, fig):
    if leg is not None and ankle is not None:
        below_crotch = max(hip_y, leg["crotch"] + 0.02 * fig.height)
        hip = np.array([_leg_x(leg, below_crotch), hip_y])
        knee_y = (hip_y + ankle[1]) / 2
        knee = np.array([_leg_x(leg, knee_y), knee_y])
        joints[f"{side}Hip"], joints[f"{side}Knee"], joints[f"{side}Ankle"] = hip, knee, ankle
        return
    x = axis_x + sign * HIP_HALF_SPAN * body_h
    joints[f"{side}Hip"] = np.array([x, hip_y])
    joints[f"{side}Knee"] = np.array([x, (hip_y + ankle_y) / 2])
    joints[f"{side}Ankle"] = np.array([x, ankle_y])


# ---------------------------------------------------------------- arms

def _arm(fig: _Figure, side: str, axis_x: float, torso_half: float, neck_y: float, head_box, legs, body_h):
    """The ink beside the torso on one side that reaches in towards the shoulder."""
    sign = 1.0 if side == "left" else -1.0
    h, w = fig.mask.shape
    ys, xs = np.mgrid[0:h, 0:w]
    torso_edge = axis_x + sign * 0.9 * torso_half
    region = fig.mask & (sign * (xs - torso_edge) > 0)
    x0, y0, x1, y1 = head_box
    region &= ~((xs >= x0) & (xs <= x1) & (ys <= y1))
    for leg in legs.values():
        # Leg columns below the crotch are not arm, whatever side they are on.
        rows = leg["rows"]
        centre = np.full(h, np.nan)
        centre[rows] = leg["x"]
        half = 0.9 * torso_half
        region &= ~((ys >= leg["crotch"]) & (np.abs(xs - np.nan_to_num(centre[:, None], nan=-1e9)) < half))
    labels, n = ndi.label(region)
    if n == 0:
        return None
    shoulder_guess = np.array([axis_x + sign * SHOULDER_IN_TORSO * torso_half,
                               neck_y + SHOULDER_BELOW_CHIN * 0.83 * body_h])
    best, best_score = None, 0.0
    for label in range(1, n + 1):
        comp = labels == label
        size = int(comp.sum())
        if size < 0.002 * fig.mask.sum():
            continue
        cy, cx = np.nonzero(comp)
        near = np.min(np.hypot(cx - shoulder_guess[0], cy - shoulder_guess[1]))
        if near > 0.6 * torso_half + 0.06 * body_h:
            continue
        reach = np.max(np.hypot(cx - shoulder_guess[0], cy - shoulder_guess[1]))
        thickness = 2.0 * ndi.distance_transform_edt(np.pad(comp, 1)).max()
        if reach < 0.12 * body_h or reach < 3.0 * thickness:
            continue      # a sleeve edge, a flared coat or a shoulder bump: not a limb
        score = reach * np.sqrt(size)
        if score > best_score:
            best, best_score = comp, score
    if best is None:
        return None
    cy, cx = np.nonzero(best)
    attach = np.abs(cx - torso_edge) <= 2
    attach_y = float(np.median(cy[attach])) if attach.any() else float(shoulder_guess[1])
    far = np.argmax(np.hypot(cx - torso_edge, cy - attach_y))
    dx, dy = cx[far] - torso_edge, cy[far] - attach_y
    return {"mask": best, "attach_y": attach_y, "level": abs(dy) < 0.35 * abs(dx)}


def _place_arm(joints: dict, side: str, sign: float, arm: dict | None, fig: "_Figure", body_h: float) -> bool:
    """Elbow and wrist along the drawn arm; level with the shoulder if none is drawn."""
    shoulder = joints[f"{side}Shoulder"]
    if arm is not None:
        joints[f"{side}Elbow"], joints[f"{side}Wrist"] = _elbow_and_wrist(fig, arm, shoulder)
        return True
    reach = sign * body_h
    joints[f"{side}Elbow"] = shoulder + [reach * UPPER_ARM, 0.0]
    joints[f"{side}Wrist"] = shoulder + [reach * (UPPER_ARM + FOREARM), 0.0]
    return False


def _elbow_and_wrist(fig: _Figure, arm: dict, shoulder: np.ndarray):
    """Along the limb from the shoulder: the hand is the farthest end, the elbow between."""
    comp = arm["mask"]
    ys, xs = np.nonzero(comp)
    index = -np.ones(comp.shape, dtype=np.int64)
    index[ys, xs] = np.arange(len(ys))
    rows, cols, weights = [], [], []
    dist = fig.dist[ys, xs]
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        ny, nx = ys + dy, xs + dx
        ok = (ny < comp.shape[0]) & (nx >= 0) & (nx < comp.shape[1])
        ok[ok] = comp[ny[ok], nx[ok]]
        a, b = np.arange(len(ys))[ok], index[ny[ok], nx[ok]]
        # Paths prefer the middle of the limb: steps near the outline cost more.
        step = np.hypot(dy, dx) * (1.0 + 2.0 / (1.0 + 0.5 * (dist[a] + dist[b])))
        rows += [a, b]
        cols += [b, a]
        weights += [step, step]
    graph = coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(len(ys), len(ys))).tocsr()
    start = int(np.argmin(np.hypot(xs - shoulder[0], ys - shoulder[1])))
    along, previous = dijkstra(graph, indices=start, return_predecessors=True)
    along[~np.isfinite(along)] = -1
    tip = int(np.argmax(along))
    path = [tip]
    while previous[path[-1]] >= 0:
        path.append(int(previous[path[-1]]))
    path = np.array(path[::-1])
    points = np.column_stack([xs[path], ys[path]]).astype(np.float64) + 0.5
    lengths = np.r_[0.0, np.cumsum(np.hypot(*np.diff(points, axis=0).T))]
    total = lengths[-1] if lengths[-1] > 0 else 1.0
    hand = HAND / (UPPER_ARM + FOREARM + HAND)
    wrist = _point_along(points, lengths, (1.0 - hand) * total)
    reach = np.hypot(*(wrist - shoulder)) + 1e-9
    elbow = _point_along(points, lengths, ELBOW_ALONG_ARM * (1.0 - hand) * total)
    # On a straight arm the path hugs one side; put the elbow on the shoulder-wrist line.
    if np.hypot(*(elbow - shoulder)) + np.hypot(*(wrist - elbow)) < 1.08 * reach:
        elbow = shoulder + ELBOW_ALONG_ARM * (wrist - shoulder)
    return elbow, wrist


def _point_along(points: np.ndarray, lengths: np.ndarray, s: float) -> np.ndarray:
    return np.array([np.interp(s, lengths, points[:, 0]), np.interp(s, lengths, points[:, 1])])


def _runs(row: np.ndarray) -> list[tuple[float, float]]:
    edges = np.diff(np.r_[0, row.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(float(a), float(b)) for a, b in zip(starts, ends)]
