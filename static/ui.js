// Small pieces of page chrome: toast, heads-up display, mode pill, character picker.

const TOAST_VISIBLE_MS = 4000;
const HUD_REFRESH_MS = 500;

export const byId = (id) => document.getElementById(id);

const TOAST_INSET_PX = 60;        // below the badges and hints at the top of the anchor
const TOAST_MARGIN_PX = 12;

export class Toast {
  /**
   * @param {HTMLElement} element
   * @param {{anchor?: HTMLElement}} options  the toast shows near the top of `anchor` (a
   *        canvas with no buttons on it) so it never hides a control; without one, at the
   *        bottom of the window.
   */
  constructor(element, { anchor = null } = {}) {
    this.element = element;
    this.anchor = anchor;
    this.hideTimer = null;
  }

  show(message) {
    this.element.textContent = message;
    this.place();
    this.element.classList.add('visible');
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => this.element.classList.remove('visible'), TOAST_VISIBLE_MS);
  }

  /** Over the anchor's upper part while it is on screen, else at the top of the window. */
  place() {
    if (!this.anchor) return;
    const box = this.anchor.getBoundingClientRect();
    const onScreen = box.bottom > TOAST_INSET_PX + 40 && box.top < window.innerHeight;
    const top = onScreen ? Math.max(TOAST_MARGIN_PX, box.top + TOAST_INSET_PX) : TOAST_MARGIN_PX;
    const left = onScreen ? box.left + box.width / 2 : window.innerWidth / 2;
    const room = onScreen ? box.width - 2 * TOAST_MARGIN_PX : window.innerWidth;
    this.element.classList.add('anchored');
    this.element.style.setProperty('--toast-top', `${Math.round(top)}px`);
    this.element.style.setProperty('--toast-left', `${Math.round(left)}px`);
    this.element.style.setProperty('--toast-room', `${Math.max(160, Math.round(room))}px`);
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
