// The editor's canvas: the artwork (from the server's path numbers, never from uploaded
// markup), binding colours, the skeleton overlay, the selection box and its handles;
// plus the view transform (fit, zoom, pan) and hit testing.

import { GROUP_COLOURS } from './editor-tools.js';

const FIT_MARGIN = 0.06;
const BODY_RADIUS = 6;        // joint sizes in CSS pixels, whatever the zoom
const FACE_RADIUS = 3.2;
// Guessed joints are hollow dashed rings, as the legend shows. A ring needs room for its
// dashes to read as dashes: a guessed face joint is drawn a little larger than a found one.
const GUESSED_FACE_RADIUS = 4.6;
const GUESSED_DASHES = { body: 6, face: 5 };
const HIT_SLOP = 5;
const HANDLE = 9;             // corner handle size
const ROTATE_OFFSET = 26;     // rotate handle above the box
const BOX_PAD = 12;           // selection box padding around its joints
const SELECTION = '#1f6feb';
const PATH_HIGHLIGHT = '#ffb224';

/** Turns the editor document's paths into drawable records (Path2D in user units). */
export function compilePaths(paths) {
  return paths.map((path) => {
    const shape = new Path2D();
    const p = path.points;
    let i = 0;
    for (const [segments, closed] of path.subpaths) {
      shape.moveTo(p[i], p[i + 1]);
      i += 2;
      for (let s = 0; s < segments; s += 1, i += 6) {
        shape.bezierCurveTo(p[i], p[i + 1], p[i + 2], p[i + 3], p[i + 4], p[i + 5]);
      }
      if (closed) shape.closePath();
    }
    const style = path.style ?? {};
    const opacity = finite(style.opacity, 1);
    return {
      shape,
      fill: paint(style.fill),
      fillAlpha: opacity * finite(style.fill_opacity, 1),
      fillRule: style.fill_rule === 'evenodd' ? 'evenodd' : 'nonzero',
      stroke: finite(style.stroke_width, 0) > 0 ? paint(style.stroke) : null,
      strokeAlpha: opacity * finite(style.stroke_opacity, 1),
      strokeWidth: finite(style.stroke_width, 1),
      lineCap: ['butt', 'round', 'square'].includes(style.line_cap) ? style.line_cap : 'butt',
      lineJoin: ['miter', 'round', 'bevel'].includes(style.line_join) ? style.line_join : 'miter',
    };
  });
}

/** Which points of the flat point list are anchors (on the curve) rather than handles. */
export function anchorFlags(paths) {
  const flags = [];
  for (const path of paths) {
    for (const [segments] of path.subpaths) {
      for (let k = 0; k < 1 + 3 * segments; k += 1) flags.push(k % 3 === 0 ? 1 : 0);
    }
  }
  return Uint8Array.from(flags);
}

function paint(colour) {
  return typeof colour === 'string' && /^#[0-9a-f]{6}$/i.test(colour) ? colour : null;
}

function finite(value, fallback) {
  return Number.isFinite(value) ? value : fallback;
}

export class EditorView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.dpr = 1;
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.adjusted = false;    // the user zoomed or panned: resizes keep their view
    this.model = null;
  }

  // ------------------------------------------------------------ view transform

  resize() {
    this.dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * this.dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * this.dpr));
    if (w !== this.canvas.width || h !== this.canvas.height) {
      this.canvas.width = w;
      this.canvas.height = h;
      return true;
    }
    return false;
  }

  /** Frames the view box and every joint, centred. */
  fit(viewBox, joints) {
    let [x0, y0, w, h] = viewBox;
    let x1 = x0 + w;
    let y1 = y0 + h;
    for (const [x, y] of Object.values(joints ?? {})) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    const cw = this.canvas.clientWidth || 1;
    const ch = this.canvas.clientHeight || 1;
    const bw = (x1 - x0) * (1 + 2 * FIT_MARGIN) || 1;
    const bh = (y1 - y0) * (1 + 2 * FIT_MARGIN) || 1;
    this.scale = Math.min(cw / bw, ch / bh);
    this.tx = cw / 2 - this.scale * (x0 + x1) / 2;
    this.ty = ch / 2 - this.scale * (y0 + y1) / 2;
    this.adjusted = false;
  }

  zoomAt(sx, sy, factor) {
    const next = Math.min(Math.max(this.scale * factor, 1e-4), 1e6);
    const k = next / this.scale;
    this.tx = sx - k * (sx - this.tx);
    this.ty = sy - k * (sy - this.ty);
    this.scale = next;
    this.adjusted = true;
  }

  panBy(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.adjusted = true;
  }

  toScreen([x, y]) {
    return [x * this.scale + this.tx, y * this.scale + this.ty];
  }

  toWorld(sx, sy) {
    return [(sx - this.tx) / this.scale, (sy - this.ty) / this.scale];
  }

  // ------------------------------------------------------------ drawing

  render(model) {
    this.model = model;
    const { ctx, dpr } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!model?.doc) return;
    this.drawPaper(model.doc.view_box);
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.tx, dpr * this.ty);
    this.drawArtwork(model.paths, model.showBinding ? 0.28 : 1);
    const picked = model.selectedPath !== null ? model.paths[model.selectedPath] : null;
    if (picked) {
      if (model.showBinding) this.drawArtwork([picked], 1);   // the picked path stands out
      this.outlinePath(picked);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (model.showBinding && model.binding) this.drawBinding(model);
    this.drawSkeleton(model);
    if (model.selectionBox) this.drawSelectionBox(model.selectionBox);
    if (model.marquee) this.drawMarquee(model.marquee);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  drawPaper([x, y, w, h]) {
    const { ctx, dpr } = this;
    const [sx, sy] = this.toScreen([x, y]);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.save();
    ctx.shadowColor = 'rgb(30 30 50 / 14%)';
    ctx.shadowBlur = 18;
    ctx.shadowOffsetY = 3;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(sx, sy, w * this.scale, h * this.scale);
    ctx.restore();
  }

  drawArtwork(paths, alpha) {
    const { ctx } = this;
    for (const record of paths) {
      if (record.fill && record.fillAlpha > 0) {
        ctx.globalAlpha = alpha * record.fillAlpha;
        ctx.fillStyle = record.fill;
        ctx.fill(record.shape, record.fillRule);
      }
      if (record.stroke && record.strokeAlpha > 0) {
        ctx.globalAlpha = alpha * record.strokeAlpha;
        ctx.strokeStyle = record.stroke;
        ctx.lineWidth = record.strokeWidth;
        ctx.lineCap = record.lineCap;
        ctx.lineJoin = record.lineJoin;
        ctx.stroke(record.shape);
      }
    }
    ctx.globalAlpha = 1;
  }

  outlinePath(record) {
    const { ctx } = this;
    ctx.save();
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 6 / this.scale;
    ctx.stroke(record.shape);
    ctx.strokeStyle = PATH_HIGHLIGHT;
    ctx.lineWidth = 3 / this.scale;
    ctx.setLineDash([8 / this.scale, 5 / this.scale]);
    ctx.stroke(record.shape);
    ctx.restore();
  }

  /** Every control point in the colour of its strongest bone's group (handles smaller). */
  drawBinding(model) {
    const { ctx } = this;
    const { groups, point_group: pointGroup } = model.binding;
    const points = model.points;
    const colours = groups.map((g) => GROUP_COLOURS[g] ?? '#888888');
    const n = Math.min(pointGroup.length, points.length / 2);
    for (let g = 0; g < colours.length; g += 1) {
      ctx.fillStyle = colours[g];
      ctx.beginPath();
      for (let i = 0; i < n; i += 1) {
        if (pointGroup[i] !== g) continue;
        const sx = points[2 * i] * this.scale + this.tx;
        const sy = points[2 * i + 1] * this.scale + this.ty;
        const r = model.anchors[i] ? 2.6 : 1.5;
        ctx.moveTo(sx + r, sy);
        ctx.arc(sx, sy, r, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
  }

  drawSkeleton(model) {
    const { ctx } = this;
    const { joints, bones, selection } = model;
    ctx.lineCap = 'round';
    for (const [a, b, group] of bones) {
      if (!joints[a] || !joints[b]) continue;
      const face = group === 'face';
      if (face && !model.showFace) continue;
      const [ax, ay] = this.toScreen(joints[a]);
      const [bx, by] = this.toScreen(joints[b]);
      ctx.globalAlpha = face ? 0.55 : 0.9;
      ctx.strokeStyle = GROUP_COLOURS[group] ?? '#555';
      ctx.lineWidth = face ? 1.2 : 3.5;
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    for (const [name, p] of Object.entries(joints)) {
      const face = model.jointGroup[name] === 'face';
      if (face && !model.showFace) continue;
      const [sx, sy] = this.toScreen(p);
      const colour = GROUP_COLOURS[model.jointGroup[name]] ?? '#555';
      const selected = selection.has(name);
      const guessed = model.guessed.has(name) && !selected;
      const base = face ? (guessed ? GUESSED_FACE_RADIUS : FACE_RADIUS) : BODY_RADIUS;
      const r = base + (selected ? 1.5 : 0) + (name === model.hover ? 1.5 : 0);
      ctx.beginPath();
      ctx.arc(sx, sy, r, 0, 2 * Math.PI);
      if (guessed) {
        ctx.fillStyle = '#ffffff';
        ctx.fill();
        // Whole dashes around the ring, so it never closes into a blob or a square.
        const dash = (Math.PI * r) / GUESSED_DASHES[face ? 'face' : 'body'];
        ctx.setLineDash([dash, dash]);
        ctx.lineWidth = face ? 1.8 : 2.2;
        ctx.strokeStyle = colour;
        ctx.stroke();
        ctx.setLineDash([]);
      } else {
        ctx.fillStyle = selected ? '#ffffff' : colour;
        ctx.fill();
        ctx.lineWidth = selected ? 2.5 : 1.5;
        ctx.strokeStyle = selected ? SELECTION : '#ffffff';
        ctx.stroke();
      }
    }
  }

  /** The selection's box in screen space, with handle positions (or null). */
  selectionFrame(joints, names) {
    if (names.length < 2) return null;
    const pts = names.filter((n) => joints[n]).map((n) => this.toScreen(joints[n]));
    if (pts.length < 2) return null;
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const box = {
      x0: Math.min(...xs) - BOX_PAD, y0: Math.min(...ys) - BOX_PAD,
      x1: Math.max(...xs) + BOX_PAD, y1: Math.max(...ys) + BOX_PAD,
    };
    box.corners = [[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]];
    box.rotate = [(box.x0 + box.x1) / 2, box.y0 - ROTATE_OFFSET];
    box.centre = [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2];
    return box;
  }

  drawSelectionBox(box) {
    const { ctx } = this;
    ctx.save();
    ctx.strokeStyle = SELECTION;
    ctx.lineWidth = 1.2;
    ctx.setLineDash([5, 4]);
    ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.moveTo(box.rotate[0], box.y0);
    ctx.lineTo(box.rotate[0], box.rotate[1]);
    ctx.stroke();
    ctx.fillStyle = '#ffffff';
    ctx.lineWidth = 1.8;
    for (const [x, y] of box.corners) {
      ctx.fillRect(x - HANDLE / 2, y - HANDLE / 2, HANDLE, HANDLE);
      ctx.strokeRect(x - HANDLE / 2, y - HANDLE / 2, HANDLE, HANDLE);
    }
    ctx.beginPath();
    ctx.arc(box.rotate[0], box.rotate[1], 6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
  }

  drawMarquee(m) {
    const { ctx } = this;
    ctx.save();
    ctx.fillStyle = 'rgb(31 111 235 / 8%)';
    ctx.strokeStyle = SELECTION;
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    const x = Math.min(m.x0, m.x1);
    const y = Math.min(m.y0, m.y1);
    ctx.fillRect(x, y, Math.abs(m.x1 - m.x0), Math.abs(m.y1 - m.y0));
    ctx.strokeRect(x, y, Math.abs(m.x1 - m.x0), Math.abs(m.y1 - m.y0));
    ctx.restore();
  }

  // ------------------------------------------------------------ hit testing (CSS pixels)

  hitJoint(sx, sy, joints, jointGroup, showFace) {
    let best = null;
    let bestD = Infinity;
    for (const [name, p] of Object.entries(joints)) {
      const face = jointGroup[name] === 'face';
      if (face && !showFace) continue;
      const [x, y] = this.toScreen(p);
      const d = Math.hypot(x - sx, y - sy);
      const reach = (face ? FACE_RADIUS : BODY_RADIUS) + HIT_SLOP;
      // Body joints win ties: they are bigger and fewer.
      const score = d - (face ? 0 : 2);
      if (d <= reach && score < bestD) {
        best = name;
        bestD = score;
      }
    }
    return best;
  }

  hitHandle(sx, sy, box) {
    if (!box) return null;
    if (Math.hypot(sx - box.rotate[0], sy - box.rotate[1]) <= 9) return { kind: 'rotate' };
    for (let i = 0; i < 4; i += 1) {
      const [x, y] = box.corners[i];
      if (Math.abs(sx - x) <= HANDLE && Math.abs(sy - y) <= HANDLE) return { kind: 'scale', corner: i };
    }
    if (sx >= box.x0 && sx <= box.x1 && sy >= box.y0 && sy <= box.y1) return { kind: 'move' };
    return null;
  }

  /** The topmost path under a screen point, or null. */
  hitPath(sx, sy, paths) {
    const { ctx, dpr } = this;
    ctx.save();
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.tx, dpr * this.ty);
    let found = null;
    for (let i = paths.length - 1; i >= 0 && found === null; i -= 1) {
      const record = paths[i];
      if (record.fill && record.fillAlpha > 0 && ctx.isPointInPath(record.shape, sx * dpr, sy * dpr, record.fillRule)) {
        found = i;
      } else if (record.stroke) {
        ctx.lineWidth = Math.max(record.strokeWidth, 6 / this.scale);
        if (ctx.isPointInStroke(record.shape, sx * dpr, sy * dpr)) found = i;
      }
    }
    ctx.restore();
    return found;
  }
}
