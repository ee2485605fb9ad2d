/**
 * The accuracy/latency Pareto front: the points no other point beats on both axes (at most the latency and at
 * least the accuracy, better on one). Sorted by latency, so accuracy increases along the front.
 */
export interface TradeoffPoint {
  latency: number;
  accuracy: number;
}

/** Indices of the Pareto-optimal points (lower latency, higher accuracy), by increasing latency. */
export function paretoFront(points: readonly TradeoffPoint[]): number[] {
  const order = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => Number.isFinite(p.latency) && Number.isFinite(p.accuracy))
    .sort((a, b) => a.p.latency - b.p.latency || b.p.accuracy - a.p.accuracy);
  const front: number[] = [];
  let best = -Infinity;
  for (const { p, i } of order) {
    if (p.accuracy > best) {
      front.push(i);
      best = p.accuracy;
    }
  }
  return front;
}
