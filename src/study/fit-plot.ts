/**
 * `pann fit --plot`'s picture: the activation and its polynomial (top panel) and the error f − p with the
 * measured max error (bottom panel), as one SVG (svg.ts).
 */
import type { FittedApproximation } from '../approx/fitted.js';
import { evalApproximation } from '../approx/polynomial.js';
import { chartPanelsSvg } from './svg.js';

function fmt(x: number): string {
  return x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(3);
}

/** SVG with the function and the polynomial (top) and the error f − p (bottom). */
export function fitPlotSvg(fit: FittedApproximation): string {
  const [a, b] = fit.interval;
  const n = Math.min(4001, Math.max(801, 4 * fit.degree + 1));
  const xs = Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
  const fs = xs.map((x) => fit.activation.f(x));
  const ps = xs.map((x) => evalApproximation(fit.approximation, x));
  const es = xs.map((_x, i) => fs[i]! - ps[i]!);
  const name = fit.activation.toString();
  return chartPanelsSvg(
    [
      {
        title: `${name} and its polynomial`,
        x: { label: 'x' },
        y: { label: 'value' },
        series: [
          { label: name, x: xs, y: fs, width: 2.4 },
          { label: `${fit.method} degree ${fit.degree}`, x: xs, y: ps, dash: '6 3' },
        ],
      },
      {
        title: `error f(x) − p(x): max ${fmt(fit.maxError)} = 2^${fit.log2Error.toFixed(2)}`,
        x: { label: 'x' },
        y: { label: 'f − p' },
        series: [
          { label: 'f − p', x: xs, y: es, color: '#d62728' },
          // ± max error as one dashed series (NaN breaks the line between the two levels)
          {
            label: '± measured max error',
            x: [a, b, NaN, a, b],
            y: [fit.maxError, fit.maxError, NaN, -fit.maxError, -fit.maxError],
            color: '#555',
            dash: '4 4',
            width: 1,
          },
        ],
        legend: true,
      },
    ],
    { title: `pann fit ${name} on [${a}, ${b}]: ${fit.method}, depth ${fit.cost.depth}` },
  );
}
