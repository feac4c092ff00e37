// Paces outgoing frames: at most one in flight, no faster than the server's max_fps,
// and a frame that gets no answer within the timeout is given up on.

const ANSWER_TIMEOUT_MS = 3000;
const RETRY_AFTER_NOTHING_SENT_MS = 100;   // e.g. the camera has no picture yet

export class FramePump {
  /**
   * @param {(seq: number) => Promise<boolean>} sendFrame  emits the frame with this seq;
   *        resolves true if something was sent, false if there was nothing to send yet.
   */
  constructor(sendFrame, { timeoutMs = ANSWER_TIMEOUT_MS } = {}) {
    this.sendFrame = sendFrame;
    this.timeoutMs = timeoutMs;
    this.minIntervalMs = 0;
    this.nextSeq = 1;
    this.inFlight = null;           // {seq, sentAt} of the frame awaiting its answer
    this.lastStartedAt = -Infinity; // when the last frame's capture began (for the fps cap)
    this.running = false;
    this.preparing = false;         // a frame is being captured/encoded right now
    this.timer = null;
  }

  setMaxFps(fps) {
    this.minIntervalMs = fps > 0 ? 1000 / fps : 0;
  }

  setRunning(running) {
    if (running === this.running) return;
    this.running = running;
    if (running) this.kick();
    else this.cancelTimer();
  }

  /** Forgets the frame in flight (e.g. the connection dropped, so no answer will come). */
  reset() {
    this.inFlight = null;
    this.kick();
  }

  /**
   * Marks the answer for `seq` as received. Returns the round trip in ms if that frame was
   * the one in flight, otherwise null (a late answer to a frame already given up on).
   */
  acknowledge(seq) {
    if (!this.inFlight || this.inFlight.seq !== seq) return null;
    const roundTripMs = performance.now() - this.inFlight.sentAt;
    this.inFlight = null;
    this.kick();
    return roundTripMs;
  }

  /** Sends the next frame now if allowed, otherwise sets a timer for when it will be. */
  kick() {
    this.cancelTimer();
    if (!this.running || this.preparing) return;
    const now = performance.now();
    if (this.inFlight) {
      const waitForAnswer = this.inFlight.sentAt + this.timeoutMs - now;
      if (waitForAnswer > 0) return this.kickAfter(waitForAnswer);
      this.inFlight = null; // no answer in time: give up on it
    }
    const waitForRate = this.lastStartedAt + this.minIntervalMs - now;
    if (waitForRate > 0) return this.kickAfter(waitForRate);
    this.sendNext();
  }

  async sendNext() {
    this.preparing = true;
    this.lastStartedAt = performance.now();
    const seq = this.nextSeq;
    let sent = false;
    try {
      sent = await this.sendFrame(seq);
    } catch (error) {
      console.warn('Could not send a frame:', error);
    } finally {
      this.preparing = false;
    }
    if (sent) {
      this.nextSeq += 1;
      this.inFlight = { seq, sentAt: performance.now() };
      this.kick();
    } else {
      this.kickAfter(RETRY_AFTER_NOTHING_SENT_MS);
    }
  }

  kickAfter(ms) {
    this.cancelTimer();
    this.timer = setTimeout(() => this.kick(), ms);
  }

  cancelTimer() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}
