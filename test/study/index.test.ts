import { describe, expect, it } from 'vitest';
import * as study from '../../src/study/index.js';

describe('src/study/index.ts', () => {
  it('exports exactly the public API (change this list only on purpose)', () => {
    expect(Object.keys(study).sort()).toMatchInlineSnapshot(`
      [
        "CELL_FORMAT",
        "CELL_VERSION",
        "CellCache",
        "DEFAULT_SETTINGS",
        "GRID_FORMAT",
        "GRID_VERSION",
        "REMEDIES",
        "RESULTS_FORMAT",
        "RESULTS_VERSION",
        "STUDY_CODE_REVISION",
        "STUDY_METHODS",
        "StudyModels",
        "WorkerPool",
        "activationNames",
        "cellId",
        "cellKey",
        "cellKeyObject",
        "cellWorkerScript",
        "chartPanelsSvg",
        "circuitFingerprint",
        "codeVersion",
        "compositeApplies",
        "emptySealCheck",
        "expandGrid",
        "floatReference",
        "gridFromJSON",
        "gridToJSON",
        "isCacheable",
        "lineChartSvg",
        "measureCell",
        "networkLabel",
        "niceTicks",
        "paretoFront",
        "rangeLabel",
        "runCellTask",
        "runStudy",
        "sealSelection",
        "seriesLabel",
        "simulationLimit",
        "spotCheckCell",
        "studyCsv",
        "studyMarkdown",
        "studyPlots",
        "studyRunFromJSON",
        "summarizeStudy",
        "tuneModel",
        "writeStudyOutputs",
      ]
    `);
  });
});
