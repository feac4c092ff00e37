// Pure helpers for the rig editor: joint sets, moves, rotations, scales, mirroring, the
// undo/redo history, and the server's rule for rig names. Joints are {name: [x, y]} in
// the drawing's user units.

export const GROUP_COLOURS = {
  torso: '#8e4ec6',
  leftArm: '#e5484d',
  rightArm: '#0588f0',
  leftLeg: '#f76b15',
  rightLeg: '#12a594',
  face: '#d6409f',
  neck: '#978365',
};

// Joints on the face's centre line: they define its mirror axis.
const FACE_MIDLINE = ['topMid', 'jawMid', 'nose0', 'nose1', 'nose2', 'nose3', 'nose4',
  'upperLipTopMid', 'upperLipBottomMid', 'lowerLipTopMid', 'lowerLipBottomMid'];
const TORSO = ['leftShoulder', 'rightShoulder', 'leftHip', 'rightHip'];

// Anything but letters (of any script), digits, _ and -: what server/rigstore.py's `\w`
// keeps (Python's \w is exactly [\p{L}\p{N}_]).
const UNSAFE_RUN = /[^\p{L}\p{N}_-]+/gu;
const NAME_LIMIT = 64;

const trimDashes = (text) => text.replace(/^[-_]+|[-_]+$/g, '');

/**
 * The file-name stem the server saves a rig under (rigstore.safe_name, rule for rule):
 * NFC, the last path part, no .svg ending, runs of other characters -> '-', no '-' or '_'
 * at either end, at most 64 characters (code points, as Python counts), else `fallback`.
 */
export function safeName(name, fallback = 'rig') {
  let last = String(name).normalize('NFC').replaceAll('\\', '/');
  last = last.slice(last.lastIndexOf('/') + 1);
  if (last.toLowerCase().endsWith('.svg')) last = last.slice(0, -4);
  const stem = trimDashes(last.replace(UNSAFE_RUN, '-'));
  return trimDashes(Array.from(stem).slice(0, NAME_LIMIT).join('')) || fallback;
}

export function mirrorName(name) {
  if (name.startsWith('left')) return `right${name.slice(4)}`;
  if (name.startsWith('right')) return `left${name.slice(5)}`;
  return name;
}

export function cloneJoints(joints) {
  const copy = {};
  for (const [name, [x, y]] of Object.entries(joints)) copy[name] = [x, y];
  return copy;
}

/** Bounding box of some joints: {minX, minY, maxX, maxY}, or null when there are none. */
export function bounds(joints, names) {
  let box = null;
  for (const name of names) {
    const p = joints[name];
    if (!p) continue;
    if (!box) box = { minX: p[0], minY: p[1], maxX: p[0], maxY: p[1] };
    box.minX = Math.min(box.minX, p[0]);
    box.minY = Math.min(box.minY, p[1]);
    box.maxX = Math.max(box.maxX, p[0]);
    box.maxY = Math.max(box.maxY, p[1]);
  }
  return box;
}

export function centreOf(box) {
  return [(box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2];
}

/** A copy of `joints` with `fn([x, y]) -> [x, y]` applied to the named ones. */
export function mapJoints(joints, names, fn) {
  const out = cloneJoints(joints);
  for (const name of names) if (out[name]) out[name] = fn(out[name]);
  return out;
}

export const translate = (dx, dy) => ([x, y]) => [x + dx, y + dy];

export function rotateAbout([cx, cy], angle) {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return ([x, y]) => [cx + c * (x - cx) - s * (y - cy), cy + s * (x - cx) + c * (y - cy)];
}

export function scaleAbout([cx, cy], sx, sy = sx) {
  return ([x, y]) => [cx + sx * (x - cx), cy + sy * (y - cy)];
}

/**
 * Copies one side onto the other, reflected about the body's (or face's) centre line.
 * `from` is 'left' or 'right' (the character's own sides); `names` limits it to those
 * joints and their twins (all joints when empty).
 */
export function mirrorSide(joints, from, names = []) {
  const limit = names.length ? new Set(names.flatMap((n) => [n, mirrorName(n)])) : null;
  const bodyAxis = meanX(joints, TORSO);
  const faceAxis = meanX(joints, FACE_MIDLINE) ?? bodyAxis;
  const out = cloneJoints(joints);
  for (const name of Object.keys(joints)) {
    if (!name.startsWith(from)) continue;
    const twin = mirrorName(name);
    if (!(twin in joints) || (limit && !limit.has(name))) continue;
    const axis = isFaceJoint(name) ? faceAxis : bodyAxis;
    const [x, y] = joints[name];
    out[twin] = [2 * axis - x, y];
  }
  return out;
}

function isFaceJoint(name) {
  return !/^(left|right)(Shoulder|Elbow|Wrist|Hip|Knee|Ankle)$/.test(name);
}

function meanX(joints, names) {
  const xs = names.filter((n) => joints[n]).map((n) => joints[n][0]);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

export function jointsEqual(a, b) {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((n) => b[n] && a[n][0] === b[n][0] && a[n][1] === b[n][1]);
}

/** Undo/redo over snapshots of {joints, pins}. */
export class History {
  constructor(limit = 200) {
    this.limit = limit;
    this.past = [];
    this.future = [];
  }

  /** Records `before`, the state just replaced by an edit. */
  record(before) {
    this.past.push(before);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  undo(current) {
    if (!this.past.length) return null;
    this.future.push(current);
    return this.past.pop();
  }

  redo(current) {
    if (!this.future.length) return null;
    this.past.push(current);
    return this.future.pop();
  }

  clear() {
    this.past = [];
    this.future = [];
  }

  get canUndo() { return this.past.length > 0; }

  get canRedo() { return this.future.length > 0; }
}
