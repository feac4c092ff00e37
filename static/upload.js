// Choosing or dropping a character .svg. Only its text is read and handed on: the file is
// never put into the page.

export const MAX_SVG_BYTES = 5 * 1024 * 1024;

/** Reads an .svg file's text, or throws an Error whose message can be shown to the user. */
export async function readSvgFile(file) {
  const looksLikeSvg = /\.svg$/i.test(file.name) || file.type === 'image/svg+xml';
  if (!looksLikeSvg) throw new Error(`“${file.name}” is not an .svg file.`);
  if (file.size > MAX_SVG_BYTES) throw new Error(`“${file.name}” is larger than the 5 MB limit.`);
  return { name: file.name, svg: await file.text() };
}

/**
 * Wires the file input and drag-and-drop. Files may be dropped anywhere on the page (the drop
 * zone lights up while dragging), so a near miss never makes the browser open the file.
 */
export function setUpRigUpload({ zone, input, onFile }) {
  input.addEventListener('change', () => {
    const [file] = input.files;
    input.value = ''; // lets the same file be chosen again later
    if (file) onFile(file);
  });

  let dragDepth = 0; // dragenter/dragleave fire for every child element crossed
  const isFileDrag = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');

  window.addEventListener('dragenter', (event) => {
    if (!isFileDrag(event)) return;
    dragDepth += 1;
    zone.classList.add('dragging');
  });
  window.addEventListener('dragleave', (event) => {
    if (!isFileDrag(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) zone.classList.remove('dragging');
  });
  window.addEventListener('dragover', (event) => {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('drop', (event) => {
    if (!isFileDrag(event)) return;
    event.preventDefault();
    dragDepth = 0;
    zone.classList.remove('dragging');
    const [file] = event.dataTransfer.files;
    if (file) onFile(file);
  });
}
