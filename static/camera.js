// The webcam: opening it, and turning its current picture into a small JPEG for the server.

const FRAME_WIDTH = 480;          // frames are scaled to this width; height keeps the aspect
const JPEG_QUALITY = 0.75;
const FALLBACK_JPEG_QUALITY = 0.5; // used when a frame comes out above the server's size limit
const CONSTRAINTS = { video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false };

export class Camera {
  /**
   * @param {HTMLVideoElement} video  shows the stream (the on-page preview)
   * @param {() => void} onLost  called if the stream stops on its own (camera unplugged...)
   */
  constructor(video, onLost) {
    this.video = video;
    this.onLost = onLost;
    this.stream = null;
    this.frameCanvas = document.createElement('canvas');
    this.frameContext = this.frameCanvas.getContext('2d');
  }

  get isReady() {
    return this.stream !== null && this.video.videoWidth > 0 && this.video.readyState >= 2;
  }

  /** Opens the camera; rejects (with the getUserMedia error) if there is none or it is refused. */
  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw Object.assign(new Error('This browser cannot use a camera here.'), { name: 'NotSupportedError' });
    }
    this.stop();
    const stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    this.stream = stream;
    for (const track of stream.getVideoTracks()) {
      track.addEventListener('ended', () => this.handleLost(stream));
    }
    this.video.srcObject = stream;
    await this.waitForPicture();
  }

  stop() {
    if (!this.stream) return;
    for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  handleLost(stream) {
    if (stream !== this.stream) return; // an old stream we already replaced
    this.stop();
    this.onLost();
  }

  async waitForPicture() {
    if (this.video.readyState < 1) {
      await new Promise((resolve) => this.video.addEventListener('loadedmetadata', resolve, { once: true }));
    }
    // Autoplay of a muted video is allowed; if play() is refused anyway, frames still decode.
    await this.video.play().catch(() => {});
  }

  /** The current picture as JPEG bytes, or null if there is no picture or it cannot fit. */
  async captureJpeg(maxBytes) {
    if (!this.isReady) return null;
    const { videoWidth, videoHeight } = this.video;
    const width = FRAME_WIDTH;
    const height = Math.max(1, Math.round((FRAME_WIDTH * videoHeight) / videoWidth));
    if (this.frameCanvas.width !== width || this.frameCanvas.height !== height) {
      this.frameCanvas.width = width;
      this.frameCanvas.height = height;
    }
    // The raw, unmirrored picture: the server does the mirroring.
    this.frameContext.drawImage(this.video, 0, 0, width, height);

    let blob = await encodeJpeg(this.frameCanvas, JPEG_QUALITY);
    if (blob && maxBytes && blob.size > maxBytes) blob = await encodeJpeg(this.frameCanvas, FALLBACK_JPEG_QUALITY);
    if (!blob || (maxBytes && blob.size > maxBytes)) return null;
    return blob.arrayBuffer();
  }
}

function encodeJpeg(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/** A friendly sentence saying why the camera could not be used. */
export function describeCameraError(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access was not allowed.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera is connected.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is busy in another app.';
    case 'NotSupportedError':
      return 'This browser cannot use a camera on this page (it needs https or localhost).';
    default:
      return 'The camera could not be started.';
  }
}
