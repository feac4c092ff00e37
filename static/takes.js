// Recording and takes: the Record button, the list of takes (play back on the current
// character, trim, rename, delete) and exports with progress, cancel and download.
//
// Recording happens on the server (`record_start` / `record_stop`): it stores the tracked
// landmarks of every frame, so a take can be replayed on any character. Playback streams
// the take's poses like the demo does: the page asks for time t with a `take` message.

import { byId } from './ui.js';

const POLL_MS = 400;
const TIMER_MS = 250;
const FORMATS = [
  { id: 'svg', label: 'SVG', title: 'Animated SVG: plays in any browser, even inside <img>' },
  { id: 'gif', label: 'GIF', title: 'Animated GIF with a transparent background' },
  { id: 'mp4', label: 'MP4', title: 'MP4 video (H.264)' },
  { id: 'frames', label: 'ZIP', title: 'ZIP of one SVG per frame' },
  { id: 'json', label: 'JSON', title: 'The pose track: replay it on any character' },
];

/** 4.2 s, or 1:04.2 from a minute on. */
export function formatSeconds(seconds) {
  const s = Math.max(0, seconds);
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const minutes = Math.floor(s / 60);
  return `${minutes}:${(s - 60 * minutes).toFixed(1).padStart(4, '0')}`;
}

/** A clock for the recording timer: 0:07. */
function formatClock(seconds) {
  const whole = Math.floor(Math.max(0, seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '';
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, className, title) {
  const node = element('button', `button ${className}`, label);
  node.type = 'button';
  if (title) node.title = title;
  return node;
}

function submitButton(label) {
  const node = button(label, 'button-light');
  node.type = 'submit';
  return node;
}

/**
 * When a take was made, as [whole seconds, sub-second digits] so that a finer `created`
 * (2024-05-01T10:00:00.123456Z) sorts correctly against a coarser one (…:00Z).
 */
function createdKey(take) {
  if (typeof take.created === 'number') {               // seconds since 1970
    const [whole, fraction = ''] = String(take.created).split('.');
    return [Number(whole) * 1000, fraction.padEnd(9, '0')];
  }
  const match = /^([^.]*?)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(take.created ?? '') ?? [];
  const whole = Date.parse(`${match[1] ?? ''}${match[3] ?? 'Z'}`);
  return [Number.isFinite(whole) ? whole : 0, (match[2] ?? '').padEnd(9, '0')];
}

/** Newest first; takes made within the same instant keep a fixed order by id. */
export function newestFirst(a, b) {
  const [secondsA, fractionA] = createdKey(a);
  const [secondsB, fractionB] = createdKey(b);
  if (secondsA !== secondsB) return secondsB - secondsA;
  if (fractionA !== fractionB) return fractionA < fractionB ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    // no JSON body
  }
  if (!response.ok) throw new Error(data?.error || `The server answered ${response.status}.`);
  return data;
}

/** One take in the list: its summary, play button, exports and edit controls. */
class TakeCard {
  constructor(take, panel) {
    this.panel = panel;
    this.take = take;
    this.job = null;           // the current or last export job of this take
    this.links = new Map();    // format -> its download link, one per finished export
    this.root = element('li', 'take');
    this.root.dataset.takeId = take.id;

    const head = element('div', 'take-head');
    this.name = element('span', 'take-name');
    this.playButton = button('▶ Play', 'button-light take-play', 'Play this take on the current character');
    this.playButton.addEventListener('click', () => panel.togglePlayback(this.take));
    head.append(this.name, this.playButton);

    this.summary = element('p', 'take-summary');

    const exports = element('div', 'take-exports');
    exports.setAttribute('role', 'group');
    exports.setAttribute('aria-label', 'Export');
    this.exportButtons = FORMATS.map((format) => {
      const node = button(format.label, 'button-light take-export', `${format.title}`);
      node.dataset.format = format.id;
      node.addEventListener('click', () => panel.startExport(this, format.id));
      return node;
    });
    exports.append(...this.exportButtons);

    this.jobBox = element('div', 'take-job');
    this.jobBox.hidden = true;
    this.progress = element('progress', 'take-progress');
    this.progress.max = 1;
    this.progress.setAttribute('aria-label', 'Export progress');
    this.progress.value = 0;
    this.jobText = element('span', 'take-job-text');
    this.cancelButton = button('Cancel', 'button-light take-cancel');
    this.cancelButton.addEventListener('click', () => panel.cancelExport(this));
    this.jobBox.append(this.progress, this.jobText, this.cancelButton);

    this.downloads = element('div', 'take-downloads');
    this.downloads.setAttribute('aria-label', 'Downloads');

    this.root.append(head, this.summary, exports, this.jobBox, this.downloads, this.buildEditor());
    this.update(take);
  }

  buildEditor() {
    const details = element('details', 'take-edit');
    details.append(element('summary', '', 'Rename, trim, delete'));

    const renameRow = element('form', 'take-row');
    this.nameInput = element('input', 'take-input');
    this.nameInput.maxLength = 80;
    this.nameInput.setAttribute('aria-label', 'Take name');
    renameRow.append(this.nameInput, submitButton('Rename'));
    renameRow.addEventListener('submit', (event) => {
      event.preventDefault();
      this.panel.rename(this, this.nameInput.value);
    });

    const trimRow = element('form', 'take-trim');
    this.trimStart = this.numberInput('Trim start (seconds)');
    this.trimEnd = this.numberInput('Trim end (seconds)');
    const range = element('div', 'take-row');
    range.append(element('span', 'take-label', 'Keep from'), this.trimStart, element('span', 'take-label', 'to'),
      this.trimEnd, element('span', 'take-label', 's'));
    const reset = button('Whole take', 'button-light', 'Undo the trim: keep the whole take');
    reset.addEventListener('click', () => this.panel.trim(this, null));
    const remove = button('Delete', 'button-danger take-delete', 'Delete this take');
    remove.addEventListener('click', () => this.panel.remove(this));
    const actions = element('div', 'take-row');
    actions.append(submitButton('Trim'), reset, remove);
    trimRow.append(range, actions);
    trimRow.addEventListener('submit', (event) => {
      event.preventDefault();
      this.panel.trim(this, [Number(this.trimStart.value), Number(this.trimEnd.value)]);
    });

    details.append(renameRow, trimRow);
    return details;
  }

  numberInput(label) {
    const input = element('input', 'take-input take-seconds');
    input.type = 'number';
    input.min = '0';
    input.step = '0.1';
    input.setAttribute('aria-label', label);
    return input;
  }

  update(take) {
    this.take = take;
    this.name.textContent = take.name;
    if (document.activeElement !== this.nameInput) this.nameInput.value = take.name;
    const trimmed = Array.isArray(take.trim);
    const frames = trimmed ? take.trimmed_frames : take.frames;
    const parts = [formatSeconds(take.trimmed_duration), `${frames} frames`, take.source];
    if (trimmed) parts.push(`trimmed from ${formatSeconds(take.duration)}`);
    this.summary.textContent = parts.join(' · ');
    if (![this.trimStart, this.trimEnd].includes(document.activeElement)) {
      this.trimStart.value = (trimmed ? take.trim[0] : 0).toFixed(1);
      this.trimEnd.value = (trimmed ? take.trim[1] : take.duration).toFixed(1);
    }
    this.trimStart.max = this.trimEnd.max = take.duration.toFixed(2);
    this.showPlaying(this.panel.playing?.id === take.id);
  }

  showPlaying(playing) {
    this.root.classList.toggle('playing', playing);
    this.playButton.textContent = playing ? '■ Stop' : '▶ Play';
    this.playButton.setAttribute('aria-pressed', String(playing));
  }

  /** A new export of `format` was asked for: its old link must not be clicked meanwhile. */
  startingExport(format) {
    for (const node of this.exportButtons) node.disabled = true;
    const link = this.links.get(format);
    if (link) setLinkStale(link, true);
    this.jobBox.hidden = false;
    this.jobBox.dataset.state = 'queued';
    this.progress.hidden = false;
    this.progress.value = 0;
    this.cancelButton.hidden = true;       // nothing to cancel until the server made the job
    this.jobText.hidden = false;
    this.jobText.textContent = `${formatLabel(format)}: starting…`;
  }

  /** The export could not even start: the previous file of that format is still good. */
  exportRefused(format) {
    for (const node of this.exportButtons) node.disabled = false;
    const link = this.links.get(format);
    if (link) setLinkStale(link, false);
    this.jobBox.hidden = true;
  }

  showJob(job) {
    this.job = job;
    const running = job.state === 'queued' || job.state === 'running';
    this.jobBox.hidden = job.state === 'done';
    this.jobBox.dataset.state = job.state;
    this.progress.hidden = !running;
    this.progress.value = job.progress ?? 0;
    this.cancelButton.hidden = !running;
    this.jobText.hidden = job.state === 'done';
    for (const node of this.exportButtons) node.disabled = running;
    const label = formatLabel(job.format);
    if (job.state === 'queued') this.jobText.textContent = `${label}: waiting…`;
    else if (job.state === 'running') this.jobText.textContent = `${label}: ${Math.round(100 * (job.progress ?? 0))}%`;
    else if (job.state === 'done') this.showDownload(job);
    else if (job.state === 'cancelled') this.jobText.textContent = `${label} export cancelled.`;
    else this.jobText.textContent = `${label} export failed: ${job.error}`;
    // A cancelled or failed export leaves the earlier file of its format downloadable.
    if (!running && job.state !== 'done') {
      const link = this.links.get(job.format);
      if (link) setLinkStale(link, false);
    }
  }

  /** One link per format, in the order of the export buttons; a newer export replaces its own. */
  showDownload(job) {
    let link = this.links.get(job.format);
    if (!link) {
      link = element('a', 'take-download');
      link.dataset.format = job.format;
      this.links.set(job.format, link);
      const order = (format) => FORMATS.findIndex((f) => f.id === format);
      const next = [...this.links.values()].find((other) => order(other.dataset.format) > order(job.format));
      this.downloads.insertBefore(link, next ?? null);
    }
    delete link.dataset.href;             // the new file replaces the one kept while stale
    link.href = job.download;
    link.download = job.filename;
    link.dataset.job = job.id;
    link.textContent = `⬇ ${job.filename} (${formatBytes(job.result?.bytes)})`;
    setLinkStale(link, false);
  }
}

function formatLabel(format) {
  return FORMATS.find((f) => f.id === format)?.label ?? format;
}

/** A stale link keeps its place but cannot be followed (no href) until its export ends. */
function setLinkStale(link, stale) {
  link.classList.toggle('stale', stale);
  if (stale) {
    link.dataset.href = link.getAttribute('href') ?? link.dataset.href ?? '';
    link.removeAttribute('href');
    link.setAttribute('aria-disabled', 'true');
    link.title = 'A new export of this format is on its way';
  } else {
    if (link.dataset.href) link.href = link.dataset.href;
    delete link.dataset.href;
    link.removeAttribute('aria-disabled');
    link.removeAttribute('title');
  }
}

export class TakesPanel {
  /**
   * @param {object} options
   * @param {{show(message: string): void}} options.toast
   * @param {() => string|null} options.currentRig   the rig id exports and playback use
   * @param {() => string} options.currentMode       'camera' | 'demo' | 'starting'
   * @param {() => object} [options.currentSettings]  mirror, follow, smoothing: exports look like playback
   * @param {object} options.hooks                   window.poseAnimator, for tests
   * @param {() => void} [options.onPlaybackChange]   a take started or stopped playing
   */
  constructor({ toast, currentRig, currentMode, hooks, onPlaybackChange = () => {}, currentSettings = () => ({}) }) {
    this.toast = toast;
    this.currentSettings = currentSettings;
    this.onPlaybackChange = onPlaybackChange;
    this.currentRig = currentRig;
    this.currentMode = currentMode;
    this.socket = null;
    this.cards = new Map();        // take id -> TakeCard
    this.takes = [];
    this.recording = null;         // {id, startedAt} while recording
    this.pendingStart = false;
    this.playing = null;           // {id, name, duration, startedAt} while playing a take
    this.ui = {
      record: byId('record-button'),
      recordLabel: byId('record-label'),
      recordTimer: byId('record-timer'),
      badge: byId('take-badge'),
      list: byId('takes-list'),
      empty: byId('takes-empty'),
    };
    this.hooks = { recording: false, playing: null, takes: [], jobs: {} };
    this.page = hooks;               // window.poseAnimator: hooks.busy says the server has no place
    hooks.takes = this.hooks;
    this.ui.record.addEventListener('click', () => this.toggleRecording());
    setInterval(() => this.tick(), TIMER_MS);
    this.updateRecordButton();
  }

  attach(socket) {
    this.socket = socket;
    socket.on('connect', () => {
      this.updateRecordButton();
      this.refresh();
    });
    socket.on('disconnect', () => {
      if (this.recording) this.toast.show('Connection lost: the take was saved up to here.');
      this.recording = null;
      this.pendingStart = false;
      this.updateRecordButton();
    });
    socket.on('recording', (message) => {
      this.pendingStart = false;
      this.recording = { id: message.id, startedAt: performance.now(), maxSeconds: message.max_seconds };
      this.updateRecordButton();
    });
    socket.on('take_saved', (message) => {
      this.recording = null;
      this.pendingStart = false;
      this.updateRecordButton();
      const take = message?.take;
      if (take) {
        const why = message.reason && message.reason !== 'stopped' ? ` (${message.reason})` : '';
        this.toast.show(`Saved “${take.name}”, ${formatSeconds(take.duration)}${why}.`);
      } else {
        this.toast.show('Nothing was recorded: no frames arrived.');
      }
      this.refresh();
    });
    socket.on('problem', (message) => {
      // A refused record_start comes back as a problem; the toast shows it (app.js).
      if (this.pendingStart) {
        this.pendingStart = false;
        this.updateRecordButton();
      }
      if (this.playing && /there is no take/.test(message?.message ?? '')) {
        this.stopPlayback();      // deleted elsewhere: stop asking for it
        this.refresh();
      }
    });
  }

  // ------------------------------------------------------------ recording

  toggleRecording() {
    if (!this.socket?.connected) {
      this.toast.show('Not connected to the server — try again in a moment.');
      return;
    }
    if (this.recording) {
      this.socket.emit('record_stop', {});
      this.ui.record.disabled = true;           // until take_saved
      return;
    }
    this.stopPlayback();
    this.pendingStart = true;
    // The take keeps the settings it was recorded with (exports through the API use them).
    this.socket.emit('record_start', { ...this.currentSettings(), source: this.currentMode() === 'demo' ? 'demo' : 'camera' });
    this.updateRecordButton();
  }

  updateRecordButton() {
    const { record, recordLabel, recordTimer } = this.ui;
    const recording = Boolean(this.recording);
    record.classList.toggle('recording', recording);
    record.setAttribute('aria-pressed', String(recording));
    record.disabled = this.pendingStart || !this.socket?.connected;
    recordLabel.textContent = recording ? 'Stop' : 'Record';
    recordTimer.hidden = !recording;
    this.hooks.recording = recording;
    this.tick();
  }

  tick() {
    if (this.recording) {
      const seconds = (performance.now() - this.recording.startedAt) / 1000;
      this.ui.recordTimer.textContent = formatClock(seconds);
      this.showBadge(`● REC ${this.ui.recordTimer.textContent}`, 'recording');
    } else if (this.playing) {
      const t = this.playbackTime()?.t ?? 0;
      this.showBadge(`▶ ${this.playing.name} · ${formatSeconds(t % this.playing.duration)} / `
        + `${formatSeconds(this.playing.duration)}`, 'playing');
    } else {
      this.ui.badge.hidden = true;
    }
  }

  showBadge(text, kind) {
    this.ui.badge.hidden = false;
    this.ui.badge.dataset.kind = kind;
    this.ui.badge.textContent = text;
  }

  // ------------------------------------------------------------ playback

  /** While a take plays, the frame pump sends `take` messages with this instead of camera frames. */
  playbackTime() {
    if (!this.playing) return null;
    return { id: this.playing.id, t: (performance.now() - this.playing.startedAt) / 1000 };
  }

  /** The name of the take playing back, or null. */
  playingName() {
    return this.playing?.name ?? null;
  }

  togglePlayback(take) {
    if (this.playing?.id === take.id) {
      this.stopPlayback();
      return;
    }
    if (this.recording) {
      this.toast.show('Stop recording before playing a take.');
      return;
    }
    if (this.page.busy) {
      this.toast.show('The server is busy: a take plays once it has a place for this page.');
      return;
    }
    this.playing = { id: take.id, name: take.name, duration: take.trimmed_duration, startedAt: performance.now() };
    this.hooks.playing = take.id;
    for (const card of this.cards.values()) card.showPlaying(card.take.id === take.id);
    this.tick();
    this.onPlaybackChange();
  }

  stopPlayback() {
    if (!this.playing) return;
    this.playing = null;
    this.hooks.playing = null;
    for (const card of this.cards.values()) card.showPlaying(false);
    this.tick();
    this.onPlaybackChange();
  }

  // ------------------------------------------------------------ the list

  async refresh() {
    let data;
    try {
      data = await api('GET', '/api/takes');
    } catch (error) {
      this.toast.show(`Could not list the takes: ${error.message}`);
      return;
    }
    this.takes = [...(data.takes ?? [])].sort(newestFirst);
    this.hooks.takes = this.takes;
    const seen = new Set();
    const cards = this.takes.map((take) => {
      seen.add(take.id);
      let card = this.cards.get(take.id);
      if (card) card.update(take);
      else {
        card = new TakeCard(take, this);
        this.cards.set(take.id, card);
      }
      return card.root;
    });
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.root.remove();
        this.cards.delete(id);
      }
    }
    this.ui.list.replaceChildren(...cards);
    this.ui.empty.hidden = this.takes.length > 0;
    if (this.playing && !seen.has(this.playing.id)) this.stopPlayback();
    const playing = this.playing && this.takes.find((take) => take.id === this.playing.id);
    if (playing) {
      this.playing.duration = playing.trimmed_duration;
      if (this.playing.name !== playing.name) {
        this.playing.name = playing.name;       // renamed while playing
        this.onPlaybackChange();
      }
    }
  }

  async rename(card, name) {
    await this.change(card, { name }, 'Renamed.');
  }

  async trim(card, range) {
    await this.change(card, { trim: range }, range ? 'Trimmed.' : 'The whole take is kept again.');
  }

  async change(card, body, done) {
    try {
      card.update(await api('PATCH', `/api/takes/${card.take.id}`, body));
      this.toast.show(done);
    } catch (error) {
      this.toast.show(error.message);
    }
    this.refresh();
  }

  async remove(card) {
    if (!window.confirm(`Delete “${card.take.name}”? This cannot be undone.`)) return;
    if (this.playing?.id === card.take.id) this.stopPlayback();
    try {
      await api('DELETE', `/api/takes/${card.take.id}`);
    } catch (error) {
      this.toast.show(error.message);
    }
    this.refresh();
  }

  // ------------------------------------------------------------ exports

  async startExport(card, format) {
    card.startingExport(format);          // at once: the old link must not be clicked meanwhile
    let job;
    try {
      job = await api('POST', `/api/takes/${card.take.id}/export`, { ...this.currentSettings(), format, rig: this.currentRig() });
    } catch (error) {
      card.exportRefused(format);
      this.toast.show(error.message);
      return;
    }
    this.showJob(card, job);
    this.poll(card, job.id);
  }

  async poll(card, jobId) {
    while (card.job?.id === jobId && ['queued', 'running'].includes(card.job.state)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        this.showJob(card, await api('GET', `/api/exports/${jobId}`));
      } catch (error) {
        this.showJob(card, { ...card.job, state: 'failed', error: error.message });
      }
    }
  }

  async cancelExport(card) {
    if (!card.job) return;
    try {
      this.showJob(card, await api('POST', `/api/exports/${card.job.id}/cancel`));
    } catch (error) {
      this.toast.show(error.message);
    }
  }

  showJob(card, job) {
    card.showJob(job);
    this.hooks.jobs[card.take.id] = job;
  }
}
