// Small pieces of page chrome: toast, heads-up display, mode pill, character picker.

const TOAST_VISIBLE_MS = 4000;
const HUD_REFRESH_MS = 500;

export const byId = (id) => document.getElementById(id);

export class Toast {
  constructor(element) {
    this.element = element;
    this.hideTimer = null;
  }

  show(message) {
    this.element.textContent = message;
    this.element.classList.add('visible');
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => this.element.classList.remove('visible'), TOAST_VISIBLE_MS);
  }
}

/** Poses drawn in the last second, server time and round trip; refreshed twice a second. */
export class Hud {
  constructor({ fps, server, roundTrip }) {
    this.fields = { fps, server, roundTrip };
    this.drawTimes = [];   // performance.now() of each draw within the last second
    this.serverMs = null;
    this.roundTripMs = null;
    setInterval(() => this.refresh(), HUD_REFRESH_MS);
  }

  countDraw() {
    this.drawTimes.push(performance.now());
  }

  recordServerMs(ms) {
    if (Number.isFinite(ms)) this.serverMs = ms;
  }

  recordRoundTrip(ms) {
    this.roundTripMs = ms;
  }

  refresh() {
    const oneSecondAgo = performance.now() - 1000;
    while (this.drawTimes.length > 0 && this.drawTimes[0] < oneSecondAgo) this.drawTimes.shift();
    this.fields.fps.textContent = this.drawTimes.length;
    this.fields.server.textContent = formatMs(this.serverMs);
    this.fields.roundTrip.textContent = formatMs(this.roundTripMs);
  }
}

const formatMs = (ms) => (ms === null ? '–' : Math.round(ms));

const MODE_LABELS = { starting: 'Starting…', camera: 'Live', demo: 'Demo' };

export function showMode(pill, label, mode) {
  pill.dataset.mode = mode;
  label.textContent = MODE_LABELS[mode];
  pill.setAttribute('aria-label', `Mode: ${MODE_LABELS[mode]}`);
}

/** Refills the picker with `rigs`, selecting `selectedId` if it is among them. */
export function fillRigPicker(select, rigs, selectedId) {
  const options = rigs.map((rig) => {
    const option = document.createElement('option');
    option.value = rig.id;
    // Saved and dropped rigs may share a bundled character's name: say which is which.
    const suffix = { saved: ' (saved)', upload: ' (dropped)' }[rig.kind] ?? '';
    option.textContent = (rig.name || rig.id) + suffix;
    if (rig.kind) option.dataset.kind = rig.kind;
    return option;
  });
  select.replaceChildren(...options);
  if (rigs.some((rig) => rig.id === selectedId)) select.value = selectedId;
  select.disabled = rigs.length === 0;
}
