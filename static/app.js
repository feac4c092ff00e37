// Pose Animator page: camera (or demo) in, deformed character out.
//
// Flow: the server says `welcome` -> we `choose_rig` -> it sends the rig's `topology` ->
// we stream `frame`s (or `demo` ticks), one in flight at a time -> it answers each with a `pose`.

import { StageRenderer, compileTopology } from './renderer.js';
import { FramePump } from './pump.js';
import { Camera, describeCameraError } from './camera.js';
import { Toast, Hud, byId, showMode, fillRigPicker } from './ui.js';
import { readSvgFile, setUpRigUpload } from './upload.js';
import { TakesPanel } from './takes.js';

const RIG_STORAGE_KEY = 'poseAnimator.rig';

// Test hooks for automated browser tests; kept current while the page runs.
const hooks = {
  mode: 'starting',        // 'starting' | 'camera' | 'demo'
  topology: null,          // the current `topology` message, as received
  lastPose: null,          // {seq, person, joints, joint_conf, receivedAt}
  posesDrawn: 0,
  framesSent: 0,           // `frame` and `demo` messages emitted
  socketConnected: false,
  busy: false,             // the server said it has no place for this page
};
window.poseAnimator = hooks;

const ui = {
  canvas: byId('stage'),
  stageMessage: byId('stage-message'),
  personHint: byId('person-hint'),
  connection: byId('connection'),
  modePill: byId('mode'),
  modeLabel: byId('mode-label'),
  canvasBox: byId('canvas-box'),
  demoNote: byId('demo-note'),
  demoText: byId('demo-note-text'),
  retryCamera: byId('retry-camera'),
  preview: byId('preview'),
  previewToggle: byId('preview-toggle'),
  video: byId('camera'),
  rigPicker: byId('rig-picker'),
  skeletonToggle: byId('skeleton-toggle'),
  mirrorToggle: byId('mirror-toggle'),
  smoothing: byId('smoothing'),
  smoothingValue: byId('smoothing-value'),
  followRadio: document.querySelector('input[name="position"][value="follow"]'),
  dropZone: byId('drop-zone'),
  rigFile: byId('rig-file'),
  uploadStatus: byId('upload-status'),
  busyBanner: byId('busy-banner'),
  busyMessage: byId('busy-message'),
  busyRetry: byId('busy-retry'),
};

const toast = new Toast(byId('toast'), { anchor: ui.canvasBox });
const hud = new Hud({ fps: byId('hud-fps'), server: byId('hud-server'), roundTrip: byId('hud-rtt') });
const renderer = new StageRenderer(ui.canvas);
const camera = new Camera(ui.video, () => enterDemo('The camera stopped.'));
const pump = new FramePump(sendFrame);

const session = {
  socket: null,
  limits: { maxFrameBytes: 0, demoSeconds: 0 },
  rigs: [],                // [{id, name, kind}] as last listed by the server
  chosenRigId: null,       // the rig last asked for (and shown in the picker)
  rig: null,               // compiled topology on this connection; poses of other rigs are ignored
  busy: false,
  cameraProblem: '',       // why the demo plays: "Camera access was not allowed", ...
  uploading: false,
  demoStartedAt: performance.now(),
  newestSeq: 0,            // seq of the newest pose accepted for drawing
  poseToDraw: null,        // newest pose waiting for the next animation frame
  drawQueued: false,
  hasDrawn: false,         // a pose has been drawn (the stage no longer needs a message)
  warned: new Set(),       // one-off warnings already shown
};

const takes = new TakesPanel({
  toast, hooks, currentRig: () => session.chosenRigId, currentMode: () => hooks.mode, currentSettings,
  onPlaybackChange: () => updateDemoNote(),
});

// ---------------------------------------------------------------- sending

function currentSettings() {
  return {
    mirror: ui.mirrorToggle.checked,
    follow: ui.followRadio.checked,
    smoothing: Number(ui.smoothing.value),
  };
}

function demoTime() {
  const seconds = (performance.now() - session.demoStartedAt) / 1000;
  const loop = session.limits.demoSeconds;
  return loop > 0 ? seconds % loop : seconds;
}

/** Called by the pump when the next frame may go; resolves whether one was sent. */
async function sendFrame(seq) {
  const { socket } = session;
  const playback = takes.playbackTime(); // a recorded take plays instead of camera or demo
  if (playback) {
    if (!socket.connected) return false;
    socket.emit('take', { seq, ...playback, ...currentSettings() });
  } else if (hooks.mode === 'demo') {
    if (!socket.connected) return false;
    socket.emit('demo', { seq, t: demoTime(), ...currentSettings() });
  } else if (hooks.mode === 'camera') {
    const jpeg = camera.isReady ? await camera.captureJpeg(session.limits.maxFrameBytes) : null;
    if (!jpeg) {
      if (camera.isReady) warnOnce('frame-size', 'Camera frames are too large for the server.');
      return false;
    }
    // Encoding is asynchronous: things may have changed meanwhile. Never queue while offline.
    if (!socket.connected || hooks.mode !== 'camera') return false;
    socket.emit('frame', { seq, jpeg, ...currentSettings() });
  } else {
    return false;
  }
  hooks.framesSent += 1;
  return true;
}

function updatePump() {
  const canSend = hooks.socketConnected && !session.busy && session.rig !== null
    && hooks.mode !== 'starting' && !document.hidden; // no point animating a hidden tab
  pump.setRunning(canSend);
}

// ---------------------------------------------------------------- receiving

function handleWelcome(message) {
  session.limits = {
    maxFrameBytes: message.max_frame_bytes || 0,
    demoSeconds: message.demo?.seconds || 0,
  };
  pump.setMaxFps(message.max_fps);
  session.rigs = message.rigs ?? [];
  setBusy(null);
  const stored = readStoredRig();
  const rigId = session.rigs.some((rig) => rig.id === stored) ? stored : message.rig;
  fillRigPicker(ui.rigPicker, session.rigs, rigId);
  chooseRig(rigId);
  updateStageMessage();
}

function chooseRig(id) {
  if (id === undefined || id === null) return;
  session.chosenRigId = id;
  ui.rigPicker.value = id;
  session.socket.emit('choose_rig', { id });
}

function handleTopology(message) {
  // The server is the authority on which rig it animates; follow it.
  session.chosenRigId = message.id;
  if (session.rigs.some((rig) => rig.id === message.id)) ui.rigPicker.value = message.id;
  const rig = compileTopology(message);
  if (Number.isFinite(message.n_points) && message.n_points !== rig.pointCount) {
    warnOnce(`points-${message.id}`, `“${message.name}” has inconsistent path data; it may look wrong.`);
  }
  hooks.topology = message;
  session.rig = rig;
  updatePump();
  updateStageMessage();
}

function handlePose(message) {
  const roundTripMs = pump.acknowledge(message.seq);
  if (roundTripMs !== null) hud.recordRoundTrip(roundTripMs);

  const { rig } = session;
  if (!rig || message.rig !== rig.id) return;
  if (message.seq <= session.newestSeq) return; // overtaken by a newer answer
  const pose = decodePose(message, rig);
  if (!pose) return;

  session.newestSeq = message.seq;
  hud.recordServerMs(message.timings?.total_ms);
  hooks.lastPose = {
    seq: message.seq,
    person: pose.person,
    joints: pose.joints,
    joint_conf: pose.jointConf,
    receivedAt: performance.now(),
  };
  session.poseToDraw = pose;
  queueDraw();
}

function decodePose(message, rig) {
  const points = asFloat32(message.points);
  if (!points || points.length < rig.pointCount * 2) {
    warnOnce(`pose-${rig.id}`, 'The server sent a pose that does not fit the character.');
    return null;
  }
  return {
    rig,
    points,
    visible: asUint8(message.visible),
    joints: asFloat32(message.joints) ?? new Float32Array(0),
    jointConf: asFloat32(message.joint_conf),
    person: Boolean(message.person),
  };
}

function handleProblem(message) {
  toast.show(message?.message || 'Something went wrong on the server.');
  if (message?.seq !== undefined && message.seq !== null) {
    pump.acknowledge(message.seq);
  } else if (session.uploading) {
    // Problems without a seq are about requests such as an upload.
    session.uploading = false;
    ui.uploadStatus.textContent = '';
  }
}

function handleRigs(message) {
  session.rigs = message.rigs ?? [];
  fillRigPicker(ui.rigPicker, session.rigs, session.chosenRigId);
  showPickerState();
}

function handleRigAdded(message) {
  if (!session.rigs.some((rig) => rig.id === message.id)) {
    session.rigs = [...session.rigs, { id: message.id, name: message.name }];
    fillRigPicker(ui.rigPicker, session.rigs, message.id);
  }
  session.uploading = false;
  ui.uploadStatus.textContent = `Added “${message.name}”.`;
  storeRig(message.id);
  chooseRig(message.id);
}

// ---------------------------------------------------------------- drawing

function queueDraw() {
  if (session.drawQueued) return;
  session.drawQueued = true;
  requestAnimationFrame(drawNewestPose);
}

function drawNewestPose() {
  session.drawQueued = false;
  const pose = session.poseToDraw;
  if (!pose) return;
  session.poseToDraw = null;
  renderer.show(pose.rig, pose);
  hooks.posesDrawn += 1;
  hud.countDraw();
  ui.personHint.hidden = pose.person;
  if (!session.hasDrawn) {
    session.hasDrawn = true;
    updateStageMessage();
  }
}

// ---------------------------------------------------------------- camera / demo mode

function setMode(mode) {
  hooks.mode = mode;
  showMode(ui.modePill, ui.modeLabel, mode);
  updateDemoNote();
  ui.preview.hidden = mode !== 'camera';
  if (mode !== 'camera') ui.personHint.hidden = true;
  updatePump();
  updateStageMessage();
}

async function startCamera() {
  ui.retryCamera.disabled = true;
  ui.retryCamera.textContent = 'Trying…';
  try {
    await camera.start();
    setMode('camera');
  } catch (error) {
    const reason = describeCameraError(error);
    if (hooks.mode === 'demo') toast.show(`Still no camera. ${reason}`); // feedback for a retry
    enterDemo(reason);
  } finally {
    ui.retryCamera.disabled = false;
    ui.retryCamera.textContent = 'Try camera again';
  }
}

function enterDemo(reason) {
  session.cameraProblem = reason.replace(/\.$/, '');
  if (hooks.mode === 'demo') {
    updateDemoNote();
    return;
  }
  session.demoStartedAt = performance.now(); // start the dance from its beginning
  setMode('demo');
}

/** Without a camera: says why, and what plays instead (the demo, or a take being played back). */
function updateDemoNote() {
  ui.demoNote.hidden = hooks.mode !== 'demo';
  const take = takes.playingName();
  const playing = take === null ? 'playing the demo dance' : `playing the take “${take}”`;
  ui.demoText.textContent = `${session.cameraProblem || 'No camera'} — ${playing}.`;
}

// ---------------------------------------------------------------- connection

function connect() {
  if (typeof window.io !== 'function') {
    setConnectionStatus('Offline');
    return;
  }
  const socket = window.io({ transports: ['websocket'] });
  session.socket = socket;
  takes.attach(socket);

  socket.on('connect', () => {
    hooks.socketConnected = true;
    setConnectionStatus(null);
    updatePump();
    updateStageMessage();
  });
  socket.on('disconnect', (reason) => {
    hooks.socketConnected = false;
    // A new connection starts afresh: no frames until it has its own topology.
    session.rig = null;
    pump.reset(); // the frame in flight will never be answered
    updatePump();
    updateStageMessage();
    setConnectionStatus(reason === 'io server disconnect' ? 'Disconnected' : 'Reconnecting…');
  });
  socket.on('connect_error', () => {
    setConnectionStatus('Can’t reach the server — retrying…');
    if (session.busy) showRetryButton(true); // the retry failed; the socket keeps trying
  });

  socket.on('welcome', handleWelcome);
  socket.on('rigs', handleRigs);
  socket.on('topology', handleTopology);
  socket.on('pose', handlePose);
  socket.on('rig_added', handleRigAdded);
  socket.on('problem', handleProblem);
  socket.on('busy', (message) => setBusy(message?.message || 'The server is busy right now.'));
}

/**
 * The server has no place for this page (`message`), or has one again (null). While busy,
 * nothing plays, so the banner is the only thing that speaks: the stage message, demo note,
 * HUD, Record, preview and status pills are hidden (style.css, .server-busy).
 */
function setBusy(message) {
  session.busy = message !== null;
  hooks.busy = session.busy;
  ui.busyMessage.textContent = message ?? '';
  ui.busyBanner.hidden = message === null;
  document.body.classList.toggle('server-busy', session.busy);
  showRetryButton(true);
  showPickerState();
  updatePump();
}

function showRetryButton(ready) {
  ui.busyRetry.disabled = !ready;
  ui.busyRetry.textContent = ready ? 'Try again' : 'Trying…';
}

/** The picker says "Loading…" only while a list is really on its way. */
function showPickerState() {
  if (session.busy && session.rigs.length === 0) {
    ui.rigPicker.replaceChildren(new Option('—', ''));
  }
  ui.rigPicker.disabled = session.busy || session.rigs.length === 0;
}

/** Asks again for a place; the banner stays until the server answers `welcome` or `busy`. */
function retryAfterBusy() {
  showRetryButton(false);
  const { socket } = session;
  if (socket.connected) socket.disconnect(); // the server is about to close this one anyway
  socket.connect();
}

function setConnectionStatus(text) {
  ui.connection.hidden = text === null;
  ui.connection.textContent = text ?? '';
}

// ---------------------------------------------------------------- page chrome

/** Says what the stage is waiting for, until the first pose is drawn. */
function updateStageMessage() {
  let text = null;
  if (!session.hasDrawn) {
    if (!session.socket) text = 'The page could not load its connection library. Please reload.';
    else if (!hooks.socketConnected) text = 'Connecting to the server…';
    else if (!session.rig) text = 'Loading the character…';
    else if (hooks.mode === 'starting') text = 'Starting the camera — allow access if your browser asks.';
    else text = 'Getting ready…';
  }
  ui.stageMessage.hidden = text === null;
  ui.stageMessage.textContent = text ?? '';
}

function warnOnce(key, message) {
  if (session.warned.has(key)) return;
  session.warned.add(key);
  toast.show(message);
}

async function uploadRig(file) {
  if (session.busy) {
    toast.show('The server is busy: you can add a character once it has a place for this page.');
    return;
  }
  if (!session.socket?.connected) {
    toast.show('Not connected to the server — try again in a moment.');
    return;
  }
  try {
    const { name, svg } = await readSvgFile(file);
    session.uploading = true;
    ui.uploadStatus.textContent = `Uploading “${name}”…`;
    session.socket.emit('upload_rig', { name, svg });
  } catch (error) {
    ui.uploadStatus.textContent = '';
    toast.show(error.message);
  }
}

function setPreviewHidden(hidden) {
  ui.preview.classList.toggle('collapsed', hidden);
  ui.previewToggle.setAttribute('aria-pressed', String(hidden));
  ui.previewToggle.textContent = hidden ? 'Show preview' : 'Hide preview';
}

function readStoredRig() {
  try {
    return localStorage.getItem(RIG_STORAGE_KEY);
  } catch {
    return null; // storage can be blocked (privacy settings); the default rig will do
  }
}

function storeRig(id) {
  try {
    localStorage.setItem(RIG_STORAGE_KEY, id);
  } catch {
    // not remembering the choice is fine
  }
}

function wireControls() {
  ui.rigPicker.addEventListener('change', () => {
    storeRig(ui.rigPicker.value);
    chooseRig(ui.rigPicker.value);
  });
  ui.skeletonToggle.addEventListener('change', () => renderer.setSkeletonVisible(ui.skeletonToggle.checked));
  ui.mirrorToggle.addEventListener('change', () => ui.video.classList.toggle('mirrored', ui.mirrorToggle.checked));
  ui.smoothing.addEventListener('input', () => {
    ui.smoothingValue.textContent = Number(ui.smoothing.value).toFixed(2);
  });
  ui.previewToggle.addEventListener('click', () => setPreviewHidden(!ui.preview.classList.contains('collapsed')));
  ui.retryCamera.addEventListener('click', startCamera);
  ui.busyRetry.addEventListener('click', retryAfterBusy);
  setUpRigUpload({ zone: ui.dropZone, input: ui.rigFile, onFile: uploadRig });

  document.addEventListener('visibilitychange', updatePump);
  new ResizeObserver(() => renderer.fitToElement()).observe(ui.canvas);
  window.addEventListener('resize', () => renderer.fitToElement()); // browser zoom
  watchPixelRatio();
}

/** Keeps the canvas crisp when devicePixelRatio changes (zoom, or a move to another screen). */
function watchPixelRatio() {
  const query = matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
  query.addEventListener('change', () => {
    renderer.fitToElement();
    watchPixelRatio();
  }, { once: true });
}

// ---------------------------------------------------------------- binary helpers

function asFloat32(data) {
  if (data instanceof ArrayBuffer) return data.byteLength % 4 === 0 ? new Float32Array(data) : null;
  if (ArrayBuffer.isView(data)) {
    // Copy: a view into a larger buffer may not be 4-byte aligned.
    return asFloat32(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  }
  if (Array.isArray(data)) return Float32Array.from(data);
  return null;
}

function asUint8(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Uint8Array.from(data);
  return null; // no visibility data: draw every path
}

// ---------------------------------------------------------------- start

wireControls();
renderer.fitToElement();
ui.video.classList.toggle('mirrored', ui.mirrorToggle.checked);
connect();
setMode('starting');
startCamera();
