// The lecture's picture of a system call: four lanes (the user program, what the
// CPU does by itself, the kernel's entry assembly, the TypeScript kernel) and the
// steps of one traced trip down and back, in order, as an SVG sequence diagram.

import type { PathPicture, PathStep } from './protocol.js';

const LANES: PathStep['layer'][] = ['user', 'cpu', 'entry', 'kernel'];
/** The VM path's lanes: the guest's two privilege levels either side of the host's trap code and the monitor. */
const VM_LANES: PathStep['layer'][] = ['guest-app', 'host', 'monitor', 'guest-kernel'];
const LANE_TITLES: Record<PathStep['layer'], string> = {
  user: 'user program', cpu: 'CPU (hardware)', entry: 'entry stubs (asm)', kernel: 'kernel (TypeScript)',
  'guest-app': 'guest app (cpl 3)', host: 'host trap (xk kernel)', monitor: 'monitor (emulate)', 'guest-kernel': 'guest kernel (vcpl 0)',
};
const SVG = 'http://www.w3.org/2000/svg';

function element<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The diagram of one system call's path. */
export function drawPath(path: PathPicture): SVGSVGElement {
  const lanes = path.kind === 'vm' ? VM_LANES : LANES;
  const laneWidth = 160, row = 26, top = 56, textX = lanes.length * laneWidth + 16;
  const height = top + path.steps.length * row + 16;
  const svg = element('svg', { viewBox: `0 0 ${textX + 620} ${height}`, role: 'img', class: 'path-picture' });
  svg.append(element('title', {}, `the path of ${path.title}`));
  svg.append(element('text', { x: 8, y: 18, class: 'path-title' }, path.kind === 'vm' ? path.title : `pid ${path.pid}: ${path.title}`));
  lanes.forEach((lane, i) => {
    const x = i * laneWidth + laneWidth / 2;
    svg.append(element('text', { x, y: 42, 'text-anchor': 'middle', class: 'lane-title' }, LANE_TITLES[lane]));
    svg.append(element('line', { x1: x, y1: top - 8, x2: x, y2: height - 8, class: `lane lane-${lane}` }));
  });
  let previous: { x: number; y: number } | null = null;
  path.steps.forEach((s, i) => {
    const x = lanes.indexOf(s.layer) * laneWidth + laneWidth / 2;
    const y = top + i * row + row / 2;
    if (previous) svg.append(element('line', { x1: previous.x, y1: previous.y, x2: x, y2: y, class: 'path-edge' }));
    const dot = element('circle', { cx: x, cy: y, r: 6, class: `step step-${s.layer}`, 'data-step': s.step, 'data-layer': s.layer, 'data-count': s.count });
    dot.append(element('title', {}, `${s.count}: ${s.text}`));
    svg.append(dot);
    svg.append(element('text', { x: textX, y: y + 4, class: 'step-text' }, `${String(s.count).padStart(7)}  ${s.text}`));
    previous = { x, y };
  });
  return svg;
}
