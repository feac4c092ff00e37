// The editor's preview: the rig being edited, animated by the server over the live socket.
//
// The rig is registered in memory first (POST /api/preview -> an "upload:..." id), then
// the socket chooses it and streams `demo` ticks (or camera frames) one at a time, as
// the live page does. The socket is opened only while the preview plays, so an idle
// editor does not hold one of the server's few live slots.

import { StageRenderer, compileTopology } from './renderer.js';
import { FramePump } from './pump.js';
import { Camera, describeCameraError } from './camera.js';

export class PreviewPlayer {
  /**
   * @param {{canvas: HTMLCanvasElement, video: HTMLVideoElement,
   *          onStatus: (text: string|null) => void, onStop: () => void}} options
   */
  constructor({ canvas, video, onStatus, onStop }) {
    this.renderer = new StageRenderer(canvas);
    this.renderer.setSkeletonVisible(true);
    this.camera = new Camera(video, () => this.fail('The camera stopped.'));
    this.pump = new FramePump((seq) => this.send(seq));
    this.onStatus = onStatus;
    this.onStop = onStop;
    this.socket = null;
    this.mode = null;          // 'demo' | 'camera' while playing
    this.rigId = null;         // the preview rig the server should animate
    this.rig = null;           // its compiled topology, once the server sent it
    this.startedAt = 0;
    this.demoSeconds = 0;
    this.maxFrameBytes = 0;
    this.posesDrawn = 0;
    new ResizeObserver(() => this.renderer.fitToElement()).observe(canvas);
  }

  get playing() {
    return this.mode !== null;
  }

  async play(mode, rigId) {
    this.stopStreaming();
    this.mode = mode;
    this.rigId = rigId;
    if (mode === 'camera') {
      this.onStatus('Opening the camera…');
      try {
        await this.camera.start();
      } catch (error) {
        this.fail(`No camera: ${describeCameraError(error)}`);
        return;
      }
    }
    this.startedAt = performance.now();
    this.connect();
  }

  /** The rig changed while playing: animate the new one from the next frame on. */
  setRig(rigId) {
    this.rigId = rigId;
    if (this.socket?.connected) this.socket.emit('choose_rig', { id: rigId });
  }

  stop() {
    this.stopStreaming();
    this.onStatus(null);
    this.onStop();
  }

  /** Forgets the last frame drawn: the editor opened another drawing. */
  clear() {
    this.renderer.clear();
    this.onStatus(null);
  }

  fail(message) {
    this.stopStreaming();
    this.onStatus(message);
    this.onStop();
  }

  stopStreaming() {
    this.mode = null;
    this.rig = null;
    this.pump.setRunning(false);
    this.pump.reset();
    this.pump.setRunning(false);
    this.camera.stop();
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
  }

  connect() {
    if (typeof window.io !== 'function') {
      this.fail('The live connection is not available.');
      return;
    }
    this.onStatus('Connecting…');
    const socket = window.io({ transports: ['websocket'], reconnection: false });
    this.socket = socket;
    socket.on('welcome', (message) => {
      this.demoSeconds = message.demo?.seconds || 0;
      this.maxFrameBytes = message.max_frame_bytes || 0;
      this.pump.setMaxFps(message.max_fps);
      socket.emit('choose_rig', { id: this.rigId });
    });
    socket.on('topology', (message) => {
      if (message.id !== this.rigId) return;
      this.rig = compileTopology(message);
      this.onStatus(null);
      this.pump.setRunning(true);
    });
    socket.on('pose', (message) => this.handlePose(message));
    socket.on('problem', (message) => {
      if (message?.seq !== undefined && message.seq !== null) this.pump.acknowledge(message.seq);
      else this.onStatus(message?.message || 'The preview failed.');
    });
    socket.on('busy', (message) => this.fail(message?.message || 'The server is busy.'));
    socket.on('connect_error', () => this.fail('Cannot reach the server.'));
    socket.on('disconnect', () => {
      if (this.mode) this.fail('The connection closed.');
    });
  }

  async send(seq) {
    const { socket } = this;
    if (!socket?.connected || !this.rig) return false;
    if (this.mode === 'demo') {
      const elapsed = (performance.now() - this.startedAt) / 1000;
      const t = this.demoSeconds > 0 ? elapsed % this.demoSeconds : elapsed;
      socket.emit('demo', { seq, t, mirror: false, follow: false, smoothing: 0.5 });
      return true;
    }
    if (this.mode === 'camera' && this.camera.isReady) {
      const jpeg = await this.camera.captureJpeg(this.maxFrameBytes);
      if (!jpeg || !this.socket?.connected || this.mode !== 'camera') return false;
      this.socket.emit('frame', { seq, jpeg, mirror: true, follow: false, smoothing: 0.5 });
      return true;
    }
    return false;
  }

  handlePose(message) {
    this.pump.acknowledge(message.seq);
    if (!this.rig || message.rig !== this.rig.id) return;
    const points = toFloat32(message.points);
    if (!points || points.length < this.rig.pointCount * 2) return;
    this.renderer.show(this.rig, {
      points,
      visible: message.visible ? new Uint8Array(toBuffer(message.visible)) : null,
      joints: toFloat32(message.joints),
      jointConf: toFloat32(message.joint_conf),
    });
    this.posesDrawn += 1;
  }
}

function toBuffer(data) {
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  return new ArrayBuffer(0);
}

function toFloat32(data) {
  const buffer = toBuffer(data);
  return buffer.byteLength % 4 === 0 ? new Float32Array(buffer) : null;
}
