import { describe, expect, it } from 'vitest';
import { studyPlots } from '../../src/study/plots.js';
import { studyCsv, studyMarkdown, studyRunFromJSON } from '../../src/study/report.js';
import type { StudyRun } from '../../src/study/study.js';
import { summarizeStudy } from '../../src/study/summary.js';
import { lineChartSvg } from '../../src/study/svg.js';
import { syntheticCell as cell } from './fixtures.js';

const cells = [
  cell('remez', 4, 5, 100),
  cell('remez', 5, 0.4, 150),
  cell('remez', 12, null, 900, { status: 'costed' }),
  cell('chebyshev', 5, 2, 150),
  cell('chebyshev', 6, null, 0),
  cell('remez', 4, 0.2, 100, { remedy: 'finetune' }),
  cell('remez', 5, 0.1, 150, { remedy: 'finetune' }),
];
cells[0]!.seal = {
  sample: 5,
  agreeWithSim: 5,
  agreeWithFloat: 4,
  correct: 4,
  maxLogitDifference: 0.01,
  latencyMs: { median: 180, min: 170, max: 200 },
  setupMs: 900,
};
cells[4]!.error = { stage: 'compile', code: 'compile', message: 'needs depth 40, "quoted", with, commas' };

const run: StudyRun = {
  format: 'pann-study-results',
  version: 1,
  grid: { name: 'synthetic', settings: { split: 'test', count: 1000, noiseSeed: 1 } },
  codeVersion: 'abc',
  machine: { cpus: 2, cpuModel: 'cpu', node: 'v20', platform: 'linux-x64' },
  cells,
  timing: { wallMs: 1000, simulateWallMs: 900, sealWallMs: 100, workers: 2, measured: 7, cached: 0, failed: 1 },
  interrupted: false,
};

describe('study outputs', () => {
  const summary = summarizeStudy(cells, 0.5, 12);

  it('writes one CSV row per cell, quoting fields with commas and quotes', () => {
    const lines = studyCsv(cells).trim().split('\n');
    expect(lines).toHaveLength(cells.length + 1);
    expect(lines[5]).toContain('"compile: needs depth 40, ""quoted"", with, commas"');
    const header = lines[0]!.split(',');
    const row = lines[1]!.split(',');
    expect(row[header.indexOf('lossPoints')]).toBe('5');
    expect(row[header.indexOf('sealAgreeWithSim')]).toBe('5');
  });

  it('answers per network in the Markdown report, with the command, comparisons, spot checks and failures', () => {
    const md = studyMarkdown(run, summary, { command: 'pann study g.json --out d' });
    expect(md).toMatch(/^# Precision study: synthetic/);
    expect(md).toContain('pann study g.json --out d');
    // baseline network: remez k=5 within 0.5, 150 ms, against the costed k=12 remez cell at 900 ms
    expect(md).toMatch(
      /\| net \(baseline\) \| 98\.0% \| \*\*5\*\* \(k=5, remez\) \| 97\.6% \(0\.4\) \|[^\n]*\| 150 ms \| 900 ms \(k=12, remez, costed only\) \| 750 ms \(83%\) \|/,
    );
    expect(md).toMatch(/\| net \(baseline, finetune\) \| 98\.0% \| \*\*4\*\*/);
    expect(md).toContain('5/5');
    expect(md).toMatch(/## Failed cells[\s\S]*needs depth 40/);
    expect(md).toMatch(/## Baseline against training techniques and remedies[\s\S]*net \(baseline, finetune\) remez/);
  });

  it('draws the loss and trade-off plots as SVG with the series it names', () => {
    const plots = studyPlots(summary);
    expect(plots.map((p) => p.file)).toEqual(['loss-vs-k.svg', 'accuracy-vs-latency.svg']);
    for (const p of plots) expect(p.svg).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
    expect(plots[0]!.svg).toContain('budget 0.5 points');
    expect(plots[0]!.svg).toContain('net (baseline, finetune) remez');
    expect(plots[1]!.svg).toContain('Pareto front');
    expect(plots[1]!.svg).toContain('SEAL-measured latency');
  });

  it('reads results back and names the bad field', () => {
    expect(studyRunFromJSON(JSON.parse(JSON.stringify(run))).cells).toHaveLength(cells.length);
    expect(() => studyRunFromJSON({ ...run, format: 'x' }, 'r.json')).toThrow(/^r\.json: format: expected "pann-study-results"/);
    expect(() => studyRunFromJSON({ ...run, cells: [{ id: 1 }] }, 'r.json')).toThrow(/cells\[0\]: not a cell result/);
  });
});

describe('svg scatter series', () => {
  it('draws markers without a line, clipped, and shows them in the legend', () => {
    const svg = lineChartSvg({
      series: [{ label: 'pts', x: [1, 2, NaN], y: [1, 4, 2], marker: 'cross', line: false }],
    });
    expect(svg).not.toMatch(/<path class="data-mark"[^>]* fill="none"/); // no series line
    expect(svg.match(/<path d="M[^"]*L[^"]*M[^"]*L[^"]*" stroke/g)).toHaveLength(3); // two points + the legend
  });
});
