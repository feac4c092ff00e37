// Draws a rig's deformed vector paths (and, optionally, its skeleton) on a HiDPI canvas.
//
// The topology (path structure and styles) arrives once per rig and is compiled here into
// plain draw records; each pose then only supplies new point coordinates.

const VIEW_BOX_FILL = 0.94;      // share of the canvas the view box may use, leaving a margin
const LOW_CONFIDENCE = 0.3;      // joints below this are drawn dimmed in the skeleton overlay
const BONE_WIDTH_PX = 3;         // skeleton sizes are in CSS pixels, independent of the rig's scale
const JOINT_RADIUS_PX = 4;

/** Turns a `topology` message into the records the renderer draws from. */
export function compileTopology(topology) {
  let nextPoint = 0;
  const paths = (topology.paths ?? []).map((path) => {
    const firstPoint = nextPoint;
    const subpaths = (path.subpaths ?? []).map(([segments, closed]) => {
      nextPoint += 1 + 3 * segments;
      return { segments, closed: Boolean(closed) };
    });
    return { firstPoint, subpaths, ...compileStyle(path.style ?? {}) };
  });
  return {
    id: topology.id,
    viewBox: normaliseViewBox(topology.view_box),
    paths,
    pointCount: nextPoint,
    bones: topology.bones ?? [],
    jointCount: (topology.joint_names ?? []).length,
  };
}

function compileStyle(style) {
  const opacity = unitNumber(style.opacity, 1);
  const strokeWidth = Number.isFinite(style.stroke_width) ? style.stroke_width : 1;
  return {
    fill: paintOrNull(style.fill),
    fillAlpha: opacity * unitNumber(style.fill_opacity, 1),
    fillRule: style.fill_rule === 'evenodd' ? 'evenodd' : 'nonzero',
    stroke: strokeWidth > 0 ? paintOrNull(style.stroke) : null,
    strokeAlpha: opacity * unitNumber(style.stroke_opacity, 1),
    strokeWidth,
    lineCap: ['butt', 'round', 'square'].includes(style.line_cap) ? style.line_cap : 'butt',
    lineJoin: ['miter', 'round', 'bevel'].includes(style.line_join) ? style.line_join : 'miter',
    miterLimit: Number.isFinite(style.miter_limit) && style.miter_limit >= 1 ? style.miter_limit : 4,
  };
}

function paintOrNull(colour) {
  return typeof colour === 'string' && colour !== '' && colour !== 'none' ? colour : null;
}

function unitNumber(value, fallback) {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : fallback;
}

function normaliseViewBox(viewBox) {
  const [x = 0, y = 0, width = 1, height = 1] = viewBox ?? [];
  return { x, y, width: width > 0 ? width : 1, height: height > 0 ? height : 1 };
}

/** Builds one Path2D holding every subpath of a path, from the pose's flat x, y array. */
function buildPath(record, points) {
  const path = new Path2D();
  let i = record.firstPoint * 2;
  for (const { segments, closed } of record.subpaths) {
    path.moveTo(points[i], points[i + 1]);
    i += 2;
    for (let s = 0; s < segments; s += 1, i += 6) {
      path.bezierCurveTo(points[i], points[i + 1], points[i + 2], points[i + 3], points[i + 4], points[i + 5]);
    }
    if (closed) path.closePath();
  }
  return path;
}

export class StageRenderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.context = canvas.getContext('2d');
    this.rig = null;        // compiled topology
    this.pose = null;       // {points, visible, joints, jointConf}
    this.shapes = null;     // the pose's Path2D per path (null where hidden), built on first draw
    this.showSkeleton = false;
    this.pixelRatio = 1;
  }

  /** Draws `pose` of `rig` (the rig changes together with its first pose, so no blank gap). */
  show(rig, pose) {
    this.rig = rig;
    this.pose = pose;
    this.shapes = null;
    this.render();
  }

  /** Blank canvas until the next `show` (another character is on its way). */
  clear() {
    this.rig = null;
    this.pose = null;
    this.shapes = null;
    this.render();
  }

  setSkeletonVisible(visible) {
    this.showSkeleton = visible;
    this.render();
  }

  /** Matches the backing store to the element's size in device pixels; redraws if it changed. */
  fitToElement() {
    this.pixelRatio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * this.pixelRatio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * this.pixelRatio));
    if (width === this.canvas.width && height === this.canvas.height) return;
    this.canvas.width = width;
    this.canvas.height = height;
    this.render();
  }

  render() {
    const ctx = this.context;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.rig || !this.pose) return;

    const scale = this.applyViewBoxTransform();
    this.drawPaths();
    if (this.showSkeleton) this.drawSkeleton(scale);
  }

  /** Maps view-box units onto the canvas, centred with the aspect ratio kept; returns the scale. */
  applyViewBoxTransform() {
    const { x, y, width, height } = this.rig.viewBox;
    const { width: canvasWidth, height: canvasHeight } = this.canvas;
    const scale = Math.min(canvasWidth / width, canvasHeight / height) * VIEW_BOX_FILL;
    const offsetX = (canvasWidth - width * scale) / 2 - x * scale;
    const offsetY = (canvasHeight - height * scale) / 2 - y * scale;
    this.context.setTransform(scale, 0, 0, scale, offsetX, offsetY);
    return scale;
  }

  /** One Path2D per drawable path of the current pose; redraws (resize, overlay) reuse them. */
  buildShapes() {
    const { points, visible } = this.pose;
    return this.rig.paths.map((record, index) => {
      const hidden = (visible && visible[index] === 0) || (!record.fill && !record.stroke);
      return hidden ? null : buildPath(record, points);
    });
  }

  drawPaths() {
    const ctx = this.context;
    this.shapes ??= this.buildShapes();
    this.rig.paths.forEach((record, index) => {
      const path = this.shapes[index];
      if (!path) return;
      if (record.fill && record.fillAlpha > 0) {
        ctx.globalAlpha = record.fillAlpha;
        ctx.fillStyle = record.fill;
        ctx.fill(path, record.fillRule);
      }
      if (record.stroke && record.strokeAlpha > 0) {
        ctx.globalAlpha = record.strokeAlpha;
        ctx.strokeStyle = record.stroke;
        ctx.lineWidth = record.strokeWidth;
        ctx.lineCap = record.lineCap;
        ctx.lineJoin = record.lineJoin;
        ctx.miterLimit = record.miterLimit;
        ctx.stroke(path);
      }
    });
    ctx.globalAlpha = 1;
  }

  drawSkeleton(scale) {
    const ctx = this.context;
    const { joints, jointConf } = this.pose;
    if (!joints) return;
    const unitsPerPixel = this.pixelRatio / scale;
    const isConfident = (j) => !jointConf || jointConf[j] >= LOW_CONFIDENCE;
    const hasJoint = (j) => Number.isFinite(joints[2 * j]) && Number.isFinite(joints[2 * j + 1]);

    ctx.lineCap = 'round';
    ctx.lineWidth = BONE_WIDTH_PX * unitsPerPixel;
    ctx.strokeStyle = '#2f6fed';
    for (const [a, b] of this.rig.bones) {
      if (!hasJoint(a) || !hasJoint(b)) continue;
      ctx.globalAlpha = isConfident(a) && isConfident(b) ? 0.85 : 0.25;
      ctx.beginPath();
      ctx.moveTo(joints[2 * a], joints[2 * a + 1]);
      ctx.lineTo(joints[2 * b], joints[2 * b + 1]);
      ctx.stroke();
    }

    const radius = JOINT_RADIUS_PX * unitsPerPixel;
    ctx.lineWidth = 1.5 * unitsPerPixel;
    ctx.fillStyle = '#ffffff';
    for (let j = 0; j < joints.length / 2; j += 1) {
      if (!hasJoint(j)) continue;
      ctx.globalAlpha = isConfident(j) ? 1 : 0.3;
      ctx.beginPath();
      ctx.arc(joints[2 * j], joints[2 * j + 1], radius, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
  }
}
