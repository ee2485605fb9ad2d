import { describe, expect, it } from 'vitest';
import { chartPanelsSvg, lineChartSvg, niceTicks } from '../../src/study/svg.js';

describe('SVG line charts', () => {
  it('nice ticks are 1, 2, 5 × 10^k steps covering the range', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3.2, 7.9, 5)).toEqual([-2, 0, 2, 4, 6]);
  });

  it('draws series, axes with labels, a legend and a title; escapes text', () => {
    const xs = [0, 1, 2, 3];
    const svg = lineChartSvg({
      title: 'error <&> test',
      x: { label: 'degree' },
      y: { label: 'max error', log2: true },
      series: [
        { label: 'remez', x: xs, y: [0.5, 0.25, 0.125, 0.0625] },
        { label: 'chebyshev', x: xs, y: [1, 0.5, 0, 0.2] },
      ],
    });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('error &lt;&amp;&gt; test');
    expect(svg).toContain('>degree</text>');
    expect(svg).toContain('>max error</text>');
    expect(svg).toContain('>remez</text>');
    expect(svg).toContain('>chebyshev</text>');
    expect(svg).toContain('2<tspan dy="-5" font-size="9">-4</tspan>'); // log2 tick 2^-4
    // the zero on the log axis breaks the second line into two pieces
    const paths = [...svg.matchAll(/<path class="data-mark"[^>]* d="([^"]*)"/g)].map((m) => m[1]!);
    expect(paths.length).toBe(2);
    expect(paths[1]!.match(/M/g)!.length).toBe(2);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('stacks panels in one picture', () => {
    const p = { series: [{ label: 'a', x: [0, 1], y: [0, 1] }], height: 200 };
    const svg = chartPanelsSvg([p, p], { title: 'two', width: 500 });
    expect(svg).toContain('height="434"');
    expect(svg.match(/<g transform=/g)!.length).toBe(2);
  });
});
