// Rig editor: upload any SVG -> the server auto-rigs it -> adjust joints -> preview -> save.
//
// The server owns the drawing: it parses (and sanitises) the upload once and sends back
// numbers only (path points, styles, joints). This page never inserts uploaded markup;
// it draws on a canvas. Edits are joints and path pins; every request sends those plus
// the id of the drawing on the server.

import { EditorView, compilePaths, anchorFlags } from './editor-view.js';
import {
  History, bounds, centreOf, cloneJoints, jointsEqual, mapJoints, mirrorSide,
  rotateAbout, safeName, scaleAbout, translate,
} from './editor-tools.js';
import { PreviewPlayer } from './editor-preview.js';
import { Toast, byId } from './ui.js';

const LIVE_RIG_KEY = 'poseAnimator.rig';        // the live page opens the rig stored here
const BINDING_DELAY_MS = 250;
const PREVIEW_DELAY_MS = 500;
const PART_LABELS = {
  torso: 'Torso', leftArm: 'Left arm', rightArm: 'Right arm',
  leftLeg: 'Left leg', rightLeg: 'Right leg', face: 'Face', neck: 'Neck',
};
const KIND_LABELS = {
  detected: 'detected', fitted: 'fitted to outline', guessed: 'guessed', 'from file': 'from file',
};

const ui = {
  canvas: byId('editor-canvas'),
  canvasBox: byId('canvas-box'),
  empty: byId('empty-state'),
  busy: byId('busy-overlay'),
  busyText: byId('busy-text'),
  fileInput: byId('svg-file'),
  dropZone: byId('drop-zone'),
  openRig: byId('open-rig'),
  undo: byId('undo'),
  redo: byId('redo'),
  saveForm: byId('save-form'),
  name: byId('rig-name'),
  save: byId('save'),
  saveState: byId('save-state'),
  download: byId('download'),
  reportSection: byId('report-section'),
  reportParts: byId('report-parts'),
  reportSummary: byId('report-summary'),
  reportNotes: byId('report-notes'),
  selectSection: byId('select-section'),
  mirrorLeft: byId('mirror-left'),
  mirrorRight: byId('mirror-right'),
  showBinding: byId('show-binding'),
  showFace: byId('show-face'),
  fitView: byId('fit-view'),
  hoverInfo: byId('hover-info'),
  bindingSection: byId('binding-section'),
  pathInfo: byId('path-info'),
  pathLabel: byId('path-label'),
  pinGroup: byId('pin-group'),
  pinsSummary: byId('pins-summary'),
  previewSection: byId('preview-section'),
  previewDemo: byId('preview-demo'),
  previewCamera: byId('preview-camera'),
  previewStop: byId('preview-stop'),
  previewMessage: byId('preview-message'),
  savedSection: byId('saved-section'),
  savedText: byId('saved-text'),
  openLive: byId('open-live'),
};

const toast = new Toast(byId('toast'), { anchor: ui.canvasBox });
const view = new EditorView(ui.canvas);
const edits = new History();   // undo/redo of joints and pins

const state = {
  doc: null,              // the editor document from the server
  paths: [],              // compiled artwork
  points: new Float64Array(0),
  anchors: new Uint8Array(0),
  joints: {},
  pins: {},               // path index -> group (or null: un-pinned); absent = as in the file
  selection: new Set(),
  hover: null,
  selectedPath: null,
  binding: null,
  guessed: new Set(),     // joints not detected, still where the auto-rig put them (drawn as rings)
  jointGroup: {},
  mode: 'joints',
  drag: null,
  spaceDown: false,
  dirty: false,
  clean: null,            // {joints, pins, name} as last saved or opened: "no unsaved changes"
  savedId: null,
  savedNames: new Set(),  // names of the rigs saved on the server (saving over one replaces it)
  rigId: null,            // the stored rig this document was opened from, if any
  sourceText: null,       // the uploaded file's text, resent if the server forgot the drawing
  bindingTimer: null,
  bindingRequest: 0,
  previewTimer: null,
  previewRigId: null,
  busy: false,
};

const preview = new PreviewPlayer({
  canvas: byId('preview-canvas'),
  video: byId('preview-video'),
  onStatus: (text) => {
    ui.previewMessage.textContent = text ?? (preview?.playing ? '' : 'Press play to see the rig move.');
  },
  onStop: () => updatePreviewButtons(),
});

// Test hooks for automated browser tests.
window.rigEditor = {
  get ready() { return state.doc !== null && !state.busy; },
  get joints() { return cloneJoints(state.joints); },
  get report() { return state.doc?.report ?? null; },
  get dirty() { return state.dirty; },
  get savedId() { return state.savedId; },
  get source() { return state.doc?.source ?? null; },
  get binding() { return state.binding; },
  get selection() { return [...state.selection]; },
  get previewPoses() { return preview.posesDrawn; },
  get pins() { return { ...state.pins }; },
  /** Page coordinates (CSS px) of a joint, for driving the mouse in tests. */
  jointOnPage(name) {
    const rect = ui.canvas.getBoundingClientRect();
    const [x, y] = view.toScreen(state.joints[name]);
    return [rect.left + x, rect.top + y];
  },
  /** Page coordinates of a drawing point (user units). */
  pointOnPage(xy) {
    const rect = ui.canvas.getBoundingClientRect();
    const [x, y] = view.toScreen(xy);
    return [rect.left + x, rect.top + y];
  },
};

// ---------------------------------------------------------------- server calls

async function requestJson(method, url, body, { form = null } = {}) {
  const init = { method, headers: {} };
  if (form) {
    init.body = form;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const isJson = (response.headers.get('Content-Type') || '').includes('application/json');
  const data = isJson ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(data?.error || `The server answered ${response.status}.`);
    error.status = response.status;
    throw error;
  }
  return data;
}

/** The edit as the server wants it; the file text is added if the server forgot the drawing. */
function editBody(extra = {}) {
  return { source: state.doc.source, name: currentName(), joints: state.joints, pins: state.pins, ...extra };
}

/** POSTs an edit; if the server no longer has the drawing (409), restores it and retries once. */
async function postEdit(url, extra = {}, raw = false) {
  const attempt = async () => {
    const response = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(editBody(extra)),
    });
    return response;
  };
  let response = await attempt();
  if (response.status === 409 && (await restoreSource())) response = await attempt();
  if (!response.ok) {
    let message = `The server answered ${response.status}.`;
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return raw ? response : response.json();
}

async function restoreSource() {
  if (state.rigId) {
    const doc = await requestJson('GET', `/api/rigs/${encodeURIComponent(state.rigId)}/edit`);
    state.doc.source = doc.source;
    return true;
  }
  if (state.sourceText) {
    const doc = await requestJson('POST', '/api/autorig', { name: state.doc.name, svg: state.sourceText });
    state.doc.source = doc.source;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- opening

async function openFile(file) {
  if (!file) return;
  if (!confirmDiscard()) return;
  if (file.size > 5 * 1024 * 1024) {
    toast.show(`${file.name} is too large (limit 5 MiB).`);
    return;
  }
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const form = new FormData();
  form.append('svg', file, file.name);
  setBusy(true, 'Finding the skeleton…');
  try {
    const doc = await requestJson('POST', '/api/autorig', undefined, { form });
    state.sourceText = gzipped ? null : await file.text();
    loadDocument(doc, { rigId: null });
    window.history.replaceState(null, '', '/editor');
  } catch (error) {
    toast.show(`${file.name}: ${error.message}`);
  } finally {
    setBusy(false);
  }
}

async function openRig(id) {
  if (!id || !confirmDiscard()) return;
  setBusy(true, 'Opening the rig…');
  try {
    const doc = await requestJson('GET', `/api/rigs/${encodeURIComponent(id)}/edit`);
    state.sourceText = null;
    loadDocument(doc, { rigId: id, savedId: id.startsWith('saved:') ? id : null });
    window.history.replaceState(null, '', `/editor?rig=${encodeURIComponent(id)}`);
  } catch (error) {
    toast.show(`Could not open ${id}: ${error.message}`);
  } finally {
    setBusy(false);
    ui.openRig.value = '';
  }
}

function loadDocument(doc, { rigId, savedId = null }) {
  preview.stop();
  preview.clear();                    // no frame of the previous character
  state.doc = doc;
  state.rigId = rigId;
  state.savedId = savedId;
  state.paths = compilePaths(doc.paths);
  state.points = Float64Array.from(doc.paths.flatMap((p) => p.points));
  state.anchors = anchorFlags(doc.paths);
  state.joints = cloneJoints(doc.joints);
  state.pins = {};
  state.selection = new Set();
  state.selectedPath = null;
  state.binding = doc.binding;
  state.previewRigId = null;
  state.jointGroup = jointGroups(doc.sets);
  refreshGuessed();
  edits.clear();
  ui.name.value = doc.name || '';     // before the save state: it compares this name
  markClean();
  ui.empty.hidden = true;
  for (const section of [ui.reportSection, ui.selectSection, ui.bindingSection, ui.previewSection]) {
    section.hidden = false;
  }
  ui.savedSection.hidden = true;
  for (const control of [ui.name, ui.save, ui.download]) control.disabled = false;
  fillPinGroups(doc.bind_groups);
  showReport(doc.report, doc.warnings);
  updatePathPanel();
  view.resize();
  view.fit(doc.view_box, state.joints);   // refitted on resizes until the user zooms or pans
  redraw();
}

function jointGroups(sets) {
  const group = {};
  for (const name of sets.face) group[name] = 'face';
  for (const side of ['left', 'right']) {
    for (const name of sets[`${side}Arm`]) group[name] = `${side}Arm`;
    for (const name of sets[`${side}Leg`]) group[name] = `${side}Leg`;
  }
  return group;
}

function confirmDiscard() {
  return !state.dirty || window.confirm('Discard the unsaved changes to this rig?');
}

// ---------------------------------------------------------------- report

function showReport(report, warnings) {
  ui.reportParts.replaceChildren();
  const parts = report?.parts ?? {};
  for (const part of Object.keys(PART_LABELS).filter((p) => p in parts)) {
    const kind = parts[part];
    const item = document.createElement('li');
    const label = document.createElement('span');
    label.textContent = PART_LABELS[part] ?? part;
    const badge = document.createElement('span');
    badge.className = `badge badge-${kind.replace(/\s+/g, '-')}`;
    badge.textContent = KIND_LABELS[kind] ?? kind;
    item.append(label, badge);
    ui.reportParts.append(item);
  }
  const joints = Object.values(report?.joints ?? {});
  const count = (kind) => joints.filter((k) => k === kind).length;
  ui.reportSummary.textContent = report?.from_file
    ? 'Joints read from the rig file.'
    : `${count('detected')} joints detected, ${count('fitted')} fitted to the outline, `
      + `${count('guessed')} guessed. Dashed rings mark joints that were not detected.`;
  ui.reportNotes.replaceChildren(...[...(report?.notes ?? []), ...(warnings ?? [])].map((note) => {
    const li = document.createElement('li');
    li.textContent = note;
    return li;
  }));
}

// ---------------------------------------------------------------- drawing

function redraw() {
  if (!state.doc) {
    view.render(null);
    return;
  }
  const names = [...state.selection];
  const box = view.selectionFrame(state.joints, names);
  view.render({
    doc: state.doc,
    paths: state.paths,
    points: state.points,
    anchors: state.anchors,
    joints: state.joints,
    bones: state.doc.bones,
    jointGroup: state.jointGroup,
    selection: state.selection,
    hover: state.hover,
    guessed: state.guessed,
    showBinding: ui.showBinding.checked,
    showFace: ui.showFace.checked,
    binding: state.binding,
    selectedPath: state.selectedPath,
    selectionBox: state.mode === 'joints' ? box : null,
    marquee: state.drag?.kind === 'marquee' ? state.drag : null,
  });
}

let drawQueued = false;
function queueRedraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    redraw();
  });
}

// ---------------------------------------------------------------- edits and history

function snapshot() {
  return { joints: cloneJoints(state.joints), pins: { ...state.pins } };
}

function restore(snap) {
  state.joints = cloneJoints(snap.joints);
  state.pins = { ...snap.pins };
  afterEdit();
}

/** Applies an edit made elsewhere: `before` is the state it replaced. */
function commit(before) {
  if (jointsEqual(before.joints, state.joints) && samePins(before.pins, state.pins)) return;
  edits.record(before);
  afterEdit();
}

function afterEdit() {
  refreshGuessed();
  updateDirty();
  updateHistoryButtons();
  updatePathPanel();
  scheduleBinding();
  schedulePreview();
  queueRedraw();
}

function samePins(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

function undo() {
  const snap = edits.undo(snapshot());
  if (snap) restore(snap);
}

function redo() {
  const snap = edits.redo(snapshot());
  if (snap) restore(snap);
}

function updateHistoryButtons() {
  ui.undo.disabled = !edits.canUndo;
  ui.redo.disabled = !edits.canRedo;
}

/** Guessed joints are drawn as rings while they stay where the auto-rig put them (undo too). */
function refreshGuessed() {
  const sources = state.doc.report?.joints ?? {};
  const placed = state.doc.joints;
  state.guessed = new Set(Object.keys(sources).filter((name) => {
    const here = state.joints[name];
    return (sources[name] === 'guessed' || sources[name] === 'fitted')
      && here && placed[name] && here[0] === placed[name][0] && here[1] === placed[name][1];
  }));
}

/** The current document, as saved or opened: undoing back to it leaves nothing unsaved. */
function markClean() {
  state.clean = { ...snapshot(), name: safeName(currentName()) };
  updateDirty();
}

function updateDirty() {
  const { clean } = state;
  // A saved rig given another name would be saved as a new rig: that is a change too.
  state.dirty = Boolean(state.doc && clean) && (!jointsEqual(clean.joints, state.joints)
    || !samePins(clean.pins, state.pins)
    || (state.savedId !== null && safeName(currentName()) !== clean.name));
  showSaveState();
  updateHistoryButtons();
}

function showSaveState() {
  const taken = takenName();
  const nameless = Boolean(state.doc) && safeName(currentName(), '') === '';   // the server refuses it
  let text = '';
  if (!state.doc) text = '';
  else if (nameless) text = 'The name needs a letter or a digit';
  else if (taken) text = `Saving replaces the saved “${taken}”`;
  else if (state.dirty) text = 'Unsaved changes';
  else if (state.savedId) text = 'Saved';
  ui.saveState.textContent = text;
  ui.saveState.title = text;          // in full, should a long name be cut short
  ui.saveState.dataset.state = nameless || taken || state.dirty ? 'dirty' : 'clean';
}

/**
 * The saved rig that saving now would replace (other than this one), or null. Compared
 * as the server compares names: by the file name it would write.
 */
function takenName() {
  if (!state.doc) return null;
  const stem = safeName(currentName());
  return stem !== state.savedId?.replace(/^saved:/, '') && state.savedNames.has(stem) ? stem : null;
}

function editJoints(names, fn) {
  const before = snapshot();
  state.joints = mapJoints(state.joints, names, fn);
  commit(before);
}

function selectSet(set) {
  const names = set === 'all' ? Object.keys(state.joints) : state.doc.sets[set] ?? [];
  if (set === 'face' || set === 'all') ui.showFace.checked = true;
  state.selection = new Set(names);
  for (const button of document.querySelectorAll('[data-set]')) {
    button.classList.toggle('active', button.dataset.set === set);
  }
  queueRedraw();
}

function clearSetButtons() {
  for (const button of document.querySelectorAll('[data-set]')) button.classList.remove('active');
}

function mirror(from) {
  const before = snapshot();
  state.joints = mirrorSide(state.joints, from, [...state.selection]);
  commit(before);
  toast.show(from === 'left' ? 'Copied the left side onto the right.' : 'Copied the right side onto the left.');
}

// ---------------------------------------------------------------- binding view and pins

function scheduleBinding() {
  clearTimeout(state.bindingTimer);
  state.bindingTimer = setTimeout(refreshBinding, BINDING_DELAY_MS);
}

async function refreshBinding() {
  if (!state.doc) return;
  const request = ++state.bindingRequest;
  try {
    const binding = await postEdit('/api/binding');
    if (request !== state.bindingRequest) return;   // a newer edit is on its way
    state.binding = binding;
    updatePathPanel();
    queueRedraw();
  } catch (error) {
    toast.show(`Binding: ${error.message}`);
  }
}

function fillPinGroups(groups) {
  const options = [new Option('Automatic (nearest bones)', '')];
  for (const group of groups ?? []) options.push(new Option(PART_LABELS[group] ?? group, group));
  ui.pinGroup.replaceChildren(...options);
}

function pinOf(index) {
  return index in state.pins ? state.pins[index] : state.doc.paths[index].bind ?? null;
}

function mainGroupOf(index) {
  if (!state.binding) return null;
  let start = 0;
  for (let i = 0; i < index; i += 1) start += state.doc.paths[i].points.length / 2;
  const counts = new Map();
  const n = state.doc.paths[index].points.length / 2;
  for (let k = start; k < start + n; k += 1) {
    const g = state.binding.point_group[k];
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  const [best] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  return best === undefined ? null : state.binding.groups[best];
}

function updatePathPanel() {
  if (!state.doc) return;
  const index = state.selectedPath;
  ui.pathInfo.hidden = index === null;
  if (index !== null) {
    const pinned = pinOf(index);
    const main = mainGroupOf(index);
    ui.pathLabel.textContent = `Path ${index + 1} of ${state.doc.paths.length}: `
      + (pinned ? `pinned to ${PART_LABELS[pinned] ?? pinned}` : `moves with ${PART_LABELS[main] ?? main ?? '…'}`);
    ui.pinGroup.value = pinned ?? '';
  }
  const pinnedCount = state.doc.paths.filter((_, i) => pinOf(i)).length;
  ui.pinsSummary.textContent = pinnedCount ? `${pinnedCount} path(s) pinned to a group.` : 'No paths pinned.';
}

function setPin(group) {
  if (state.selectedPath === null) return;
  const before = snapshot();
  const fromFile = state.doc.paths[state.selectedPath].bind ?? null;
  if ((group || null) === fromFile) delete state.pins[state.selectedPath];
  else state.pins[state.selectedPath] = group || null;
  commit(before);
  ui.showBinding.checked = true;
}

// ---------------------------------------------------------------- preview

async function startPreview(mode) {
  try {
    const id = await registerPreview();
    await preview.play(mode, id);
  } catch (error) {
    toast.show(`Preview: ${error.message}`);
  }
  updatePreviewButtons();
}

async function registerPreview() {
  const info = await postEdit('/api/preview');
  state.previewRigId = info.id;
  return info.id;
}

function schedulePreview() {
  if (!preview.playing) return;
  clearTimeout(state.previewTimer);
  state.previewTimer = setTimeout(async () => {
    try {
      preview.setRig(await registerPreview());
    } catch (error) {
      toast.show(`Preview: ${error.message}`);
    }
  }, PREVIEW_DELAY_MS);
}

function updatePreviewButtons() {
  ui.previewStop.disabled = !preview.playing;
  ui.previewDemo.classList.toggle('active', preview.mode === 'demo');
  ui.previewCamera.classList.toggle('active', preview.mode === 'camera');
}

// ---------------------------------------------------------------- save and download

function currentName() {
  return ui.name.value.trim() || state.doc?.name || 'my-rig';
}

async function save(event) {
  event?.preventDefault();
  if (!state.doc) return;
  ui.save.disabled = true;
  ui.saveState.textContent = 'Saving…';
  try {
    const info = await postEdit('/api/rigs');
    state.savedId = info.id;
    state.rigId = info.id;
    ui.name.value = info.name;
    markClean();
    window.history.replaceState(null, '', `/editor?rig=${encodeURIComponent(info.id)}`);
    ui.savedSection.hidden = false;
    ui.savedText.textContent = `Saved as “${info.name}” (${info.file}). It is now in the live page's `
      + (info.replaced ? 'character list; the version it replaced is kept on the server.' : 'character list.');
    ui.openLive.dataset.rig = info.id;
    toast.show(`Saved “${info.name}”.`);
    loadRigList();
  } catch (error) {
    ui.saveState.textContent = 'Not saved';
    toast.show(`Could not save: ${error.message}`);
  } finally {
    ui.save.disabled = false;
  }
}

async function download() {
  if (!state.doc) return;
  try {
    const response = await postEdit('/api/export', {}, true);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${safeName(currentName())}.svg`;     // the name the server would save it under
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (error) {
    toast.show(`Could not download: ${error.message}`);
  }
}

async function loadRigList() {
  try {
    const { rigs } = await requestJson('GET', '/api/rigs');
    const options = [new Option('Choose a rig…', '')];
    state.savedNames = new Set(rigs.filter((rig) => rig.kind === 'saved').map((rig) => rig.name));
    showSaveState();
    for (const rig of rigs) {
      if (rig.kind === 'upload') continue;
      options.push(new Option(`${rig.name}${rig.kind === 'saved' ? ' (saved)' : ''}`, rig.id));
    }
    ui.openRig.replaceChildren(...options);
  } catch {
    // the list is a convenience; uploading still works
  }
}

// ---------------------------------------------------------------- pointer interaction

function canvasPoint(event) {
  const rect = ui.canvas.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

function onPointerDown(event) {
  if (!state.doc) return;
  ui.canvas.focus({ preventScroll: true });
  const [sx, sy] = canvasPoint(event);
  ui.canvas.setPointerCapture(event.pointerId);
  if (event.button === 1 || (event.button === 0 && state.spaceDown)) {
    state.drag = { kind: 'pan', last: [sx, sy] };
    return;
  }
  if (event.button !== 0) return;
  if (state.mode === 'paths') {
    state.selectedPath = view.hitPath(sx, sy, state.paths);
    updatePathPanel();
    queueRedraw();
    return;
  }
  const names = [...state.selection];
  const box = view.selectionFrame(state.joints, names);
  const joint = view.hitJoint(sx, sy, state.joints, state.jointGroup, ui.showFace.checked);
  const handle = view.hitHandle(sx, sy, box);
  const before = snapshot();
  if (handle && handle.kind !== 'move' && !(joint && !state.selection.has(joint))) {
    const centre = view.toWorld(...box.centre);
    const [wx, wy] = view.toWorld(sx, sy);
    state.drag = {
      kind: handle.kind, before, names, centre,
      angle0: Math.atan2(wy - centre[1], wx - centre[0]),
      dist0: Math.hypot(wx - centre[0], wy - centre[1]) || 1e-9,
    };
    return;
  }
  if (joint) {
    if (event.shiftKey) {
      if (state.selection.has(joint)) state.selection.delete(joint);
      else state.selection.add(joint);
      clearSetButtons();
      queueRedraw();
      return;
    }
    if (!state.selection.has(joint)) {
      state.selection = new Set([joint]);
      clearSetButtons();
    }
    state.drag = { kind: 'move', before, names: [...state.selection], start: view.toWorld(sx, sy) };
    queueRedraw();
    return;
  }
  if (handle?.kind === 'move') {
    state.drag = { kind: 'move', before, names, start: view.toWorld(sx, sy) };
    return;
  }
  state.drag = { kind: 'marquee', x0: sx, y0: sy, x1: sx, y1: sy, additive: event.shiftKey };
}

function onPointerMove(event) {
  if (!state.doc) return;
  const [sx, sy] = canvasPoint(event);
  const drag = state.drag;
  if (!drag) {
    const hover = state.mode === 'joints'
      ? view.hitJoint(sx, sy, state.joints, state.jointGroup, ui.showFace.checked) : null;
    if (hover !== state.hover) {
      state.hover = hover;
      ui.hoverInfo.textContent = hover ? describeJoint(hover) : '';
      ui.canvas.style.cursor = hover ? 'grab' : '';
      queueRedraw();
    }
    return;
  }
  const [wx, wy] = view.toWorld(sx, sy);
  if (drag.kind === 'pan') {
    view.panBy(sx - drag.last[0], sy - drag.last[1]);
    drag.last = [sx, sy];
  } else if (drag.kind === 'move') {
    state.joints = mapJoints(drag.before.joints, drag.names, translate(wx - drag.start[0], wy - drag.start[1]));
    ui.canvas.style.cursor = 'grabbing';
  } else if (drag.kind === 'rotate') {
    const angle = Math.atan2(wy - drag.centre[1], wx - drag.centre[0]) - drag.angle0;
    state.joints = mapJoints(drag.before.joints, drag.names, rotateAbout(drag.centre, angle));
  } else if (drag.kind === 'scale') {
    const k = Math.max(Math.hypot(wx - drag.centre[0], wy - drag.centre[1]) / drag.dist0, 0.02);
    state.joints = mapJoints(drag.before.joints, drag.names, scaleAbout(drag.centre, k));
  } else if (drag.kind === 'marquee') {
    drag.x1 = sx;
    drag.y1 = sy;
  }
  queueRedraw();
}

function onPointerUp(event) {
  const drag = state.drag;
  state.drag = null;
  if (ui.canvas.hasPointerCapture?.(event.pointerId)) ui.canvas.releasePointerCapture(event.pointerId);
  ui.canvas.style.cursor = state.hover ? 'grab' : '';
  if (!drag) return;
  if (drag.kind === 'marquee') {
    finishMarquee(drag);
  } else if (drag.before) {
    commit(drag.before);
  }
  queueRedraw();
}

function finishMarquee(m) {
  const x0 = Math.min(m.x0, m.x1);
  const x1 = Math.max(m.x0, m.x1);
  const y0 = Math.min(m.y0, m.y1);
  const y1 = Math.max(m.y0, m.y1);
  const picked = Object.keys(state.joints).filter((name) => {
    if (state.jointGroup[name] === 'face' && !ui.showFace.checked) return false;
    const [x, y] = view.toScreen(state.joints[name]);
    return x >= x0 && x <= x1 && y >= y0 && y <= y1;
  });
  if (!m.additive) state.selection = new Set();
  for (const name of picked) state.selection.add(name);
  clearSetButtons();
}

function describeJoint(name) {
  const source = state.doc.report?.joints?.[name];
  const how = state.guessed.has(name) ? ` (${KIND_LABELS[source] ?? source})` : '';
  return `${name}${how}`;
}

function onWheel(event) {
  if (!state.doc) return;
  event.preventDefault();
  const [sx, sy] = canvasPoint(event);
  view.zoomAt(sx, sy, Math.exp(-event.deltaY * 0.0015));
  queueRedraw();
}

// ---------------------------------------------------------------- keyboard

function onKeyDown(event) {
  const typing = event.target instanceof HTMLInputElement && event.target.type === 'text';
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key.toLowerCase() === 'z' && !typing) {
    event.preventDefault();
    if (event.shiftKey) redo(); else undo();
    return;
  }
  if (mod && event.key.toLowerCase() === 'y' && !typing) {
    event.preventDefault();
    redo();
    return;
  }
  if (mod && event.key.toLowerCase() === 's') {
    event.preventDefault();
    save();
    return;
  }
  if (typing || !state.doc) return;
  if (mod && event.key.toLowerCase() === 'a') {
    event.preventDefault();
    selectSet('all');
  } else if (event.key === 'Escape') {
    state.selection = new Set();
    state.selectedPath = null;
    clearSetButtons();
    updatePathPanel();
    queueRedraw();
  } else if (event.key === ' ') {
    state.spaceDown = true;
    if (document.activeElement === ui.canvas) event.preventDefault();
  } else if (event.key.startsWith('Arrow') && state.selection.size) {
    event.preventDefault();
    const step = (event.shiftKey ? 10 : 1) / view.scale;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
    editJoints([...state.selection], translate(d[0], d[1]));
  }
}

// ---------------------------------------------------------------- page chrome

function setBusy(busy, text = '') {
  state.busy = busy;
  ui.busy.hidden = !busy;
  ui.busyText.textContent = text;
}

function wire() {
  ui.fileInput.addEventListener('change', () => {
    openFile(ui.fileInput.files[0]);
    ui.fileInput.value = '';
  });
  ui.openRig.addEventListener('change', () => openRig(ui.openRig.value));
  for (const target of [window]) {
    target.addEventListener('dragover', (event) => {
      event.preventDefault();
      ui.dropZone.classList.add('dragging');
      ui.canvasBox.classList.add('dragging');
    });
    target.addEventListener('dragleave', (event) => {
      if (event.relatedTarget === null) {
        ui.dropZone.classList.remove('dragging');
        ui.canvasBox.classList.remove('dragging');
      }
    });
    target.addEventListener('drop', (event) => {
      event.preventDefault();
      ui.dropZone.classList.remove('dragging');
      ui.canvasBox.classList.remove('dragging');
      openFile(event.dataTransfer?.files?.[0]);
    });
  }
  ui.canvas.addEventListener('pointerdown', onPointerDown);
  ui.canvas.addEventListener('pointermove', onPointerMove);
  ui.canvas.addEventListener('pointerup', onPointerUp);
  ui.canvas.addEventListener('pointercancel', onPointerUp);
  ui.canvas.addEventListener('pointerleave', () => {
    if (!state.drag && state.hover) {
      state.hover = null;
      ui.hoverInfo.textContent = '';
      queueRedraw();
    }
  });
  ui.canvas.addEventListener('wheel', onWheel, { passive: false });
  ui.canvas.addEventListener('dblclick', (event) => {
    const [sx, sy] = canvasPoint(event);
    if (!state.doc || view.hitJoint(sx, sy, state.joints, state.jointGroup, ui.showFace.checked)) return;
    view.fit(state.doc.view_box, state.joints);
    queueRedraw();
  });
  document.addEventListener('keydown', onKeyDown);
  document.addEventListener('keyup', (event) => {
    if (event.key === ' ') state.spaceDown = false;
  });
  ui.undo.addEventListener('click', undo);
  ui.redo.addEventListener('click', redo);
  ui.saveForm.addEventListener('submit', save);
  ui.download.addEventListener('click', download);
  ui.name.addEventListener('input', updateDirty);
  for (const button of document.querySelectorAll('[data-set]')) {
    button.addEventListener('click', () => selectSet(button.dataset.set));
  }
  ui.mirrorLeft.addEventListener('click', () => mirror('left'));
  ui.mirrorRight.addEventListener('click', () => mirror('right'));
  ui.showBinding.addEventListener('change', queueRedraw);
  ui.showFace.addEventListener('change', queueRedraw);
  ui.fitView.addEventListener('click', () => {
    if (!state.doc) return;
    view.fit(state.doc.view_box, state.joints);
    queueRedraw();
  });
  for (const input of document.querySelectorAll('input[name="pick"]')) {
    input.addEventListener('change', () => {
      state.mode = input.value;
      if (state.mode === 'paths') ui.showBinding.checked = true;
      queueRedraw();
    });
  }
  ui.pinGroup.addEventListener('change', () => setPin(ui.pinGroup.value));
  ui.previewDemo.addEventListener('click', () => startPreview('demo'));
  ui.previewCamera.addEventListener('click', () => startPreview('camera'));
  ui.previewStop.addEventListener('click', () => preview.stop());
  ui.openLive.addEventListener('click', () => {
    try {
      if (ui.openLive.dataset.rig) localStorage.setItem(LIVE_RIG_KEY, ui.openLive.dataset.rig);
    } catch { /* the live page will open its default character */ }
  });
  window.addEventListener('beforeunload', (event) => {
    if (state.dirty) event.preventDefault();
  });
  // Until the user zooms or pans, the figure is refitted whenever the canvas changes size
  // (panels appearing, the page reflowing on a narrow screen, the window resized).
  new ResizeObserver(() => {
    if (view.resize() && state.doc && !view.adjusted) view.fit(state.doc.view_box, state.joints);
    redraw();
  }).observe(ui.canvas);
}

wire();
view.resize();
loadRigList();
const wanted = new URLSearchParams(location.search).get('rig');
if (wanted) openRig(wanted);
