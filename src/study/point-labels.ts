/**
 * Where to put a label beside each of a chart's points: greedy placement over candidate positions around the
 * point (close first, then farther out), keeping every label inside the plot area and scoring overlaps with the
 * labels already placed (heavily) and with the chart's markers (lightly). Labels are placed in the given order.
 */

/** An axis-aligned box in SVG pixels (y grows downwards). */
export interface LabelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A label to place: the point it belongs to and the label's size. */
export interface LabelRequest {
  /** The point. */
  x: number;
  y: number;
  /** The label's width and height. */
  w: number;
  h: number;
}

const LABEL_OVERLAP_COST = 1000;
const MARKER_OVERLAP_COST = 1;
/** Distances from the point, px: the nearest ring first. */
const RINGS = [5, 16, 30, 46];

function overlapArea(a: LabelBox, b: LabelBox): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Candidate boxes around the point: right, left, above, below and the four corners, on each ring. */
function candidates(r: LabelRequest): LabelBox[] {
  const out: LabelBox[] = [];
  for (const d of RINGS) {
    const spots: [number, number][] = [
      [r.x + d, r.y - r.h / 2],
      [r.x - d - r.w, r.y - r.h / 2],
      [r.x - r.w / 2, r.y - d - r.h],
      [r.x - r.w / 2, r.y + d],
      [r.x + d * 0.7, r.y - d * 0.7 - r.h],
      [r.x + d * 0.7, r.y + d * 0.7],
      [r.x - d * 0.7 - r.w, r.y - d * 0.7 - r.h],
      [r.x - d * 0.7 - r.w, r.y + d * 0.7],
    ];
    for (const [x, y] of spots) out.push({ x, y, w: r.w, h: r.h });
  }
  return out;
}

/** Move a box the least way into the area (a label wider than the area keeps its left edge in). */
function clampInto(b: LabelBox, area: LabelBox): LabelBox {
  const x = Math.max(area.x, Math.min(b.x, area.x + area.w - b.w));
  const y = Math.max(area.y, Math.min(b.y, area.y + area.h - b.h));
  return { ...b, x, y };
}

/** A box per request, inside `area`, overlapping the others and `obstacles` as little as the candidates allow. */
export function placeLabels(requests: readonly LabelRequest[], area: LabelBox, obstacles: readonly LabelBox[] = []): LabelBox[] {
  const placed: LabelBox[] = [];
  for (const r of requests) {
    let best: LabelBox | undefined;
    let bestCost = Infinity;
    for (const c of candidates(r).map((b) => clampInto(b, area))) {
      let cost = 0;
      for (const p of placed) cost += LABEL_OVERLAP_COST * overlapArea(c, p);
      for (const o of obstacles) cost += MARKER_OVERLAP_COST * overlapArea(c, o);
      if (cost < bestCost) {
        best = c;
        bestCost = cost;
        if (cost === 0) break;
      }
    }
    placed.push(best!);
  }
  return placed;
}
