/**
 * Public API of pann's precision study: grids, measuring cells (sim + SEAL spot checks), running a study with a
 * resumable per-cell cache and worker threads, summaries, reports and plots, and per-layer precision tuning.
 */
export {
  DEFAULT_SETTINGS,
  GRID_FORMAT,
  GRID_VERSION,
  REMEDIES,
  STUDY_METHODS,
  cellId,
  compositeApplies,
  expandGrid,
  gridFromJSON,
  gridToJSON,
  rangeLabel,
} from './grid.js';
export type { GridAxes, ModelFacts, Remedy, StudyCell, StudyGrid, StudyMethod, StudyModel, StudyRange, StudySettings } from './grid.js';
export { emptySealCheck, isCacheable, measureCell, runCellTask, simulationLimit, spotCheckCell } from './cell.js';
export type { CellDeps, CellTask } from './cell.js';
export type { CellCost, CellResult, CellStage, SealCheck } from './cell-result.js';
export {
  CELL_FORMAT,
  CELL_VERSION,
  CellCache,
  STUDY_CODE_REVISION,
  cellKey,
  cellKeyObject,
  circuitFingerprint,
  codeVersion,
} from './cell-cache.js';
export { StudyModels, activationNames, floatReference } from './models.js';
export type { FloatReference, StudyModelData } from './models.js';
export { WorkerPool } from './worker-pool.js';
export type { PoolTask, WorkerPoolOptions } from './worker-pool.js';
export { RESULTS_FORMAT, RESULTS_VERSION, cellWorkerScript, runStudy, sealSelection } from './study.js';
export type { StudyOptions, StudyProgress, StudyRun } from './study.js';
export { paretoFront } from './pareto.js';
export type { TradeoffPoint } from './pareto.js';
export { networkLabel, seriesLabel, summarizeStudy } from './summary.js';
export type { NetworkAnswer, SeriesSummary, StudySummary } from './summary.js';
export { studyCsv, studyMarkdown, studyRunFromJSON, writeStudyOutputs } from './report.js';
export type { ReportOptions } from './report.js';
export { studyPlots } from './plots.js';
export type { StudyPlot } from './plots.js';
export { categoricalStyle, chartPanelsSvg, lineChartSvg, niceTicks } from './svg.js';
export type { ChartAxis, ChartSeries, LineChartOptions, MarkerKind } from './svg.js';
export { fitPlotSvg } from './fit-plot.js';
export { tuneModel } from './tune.js';
export type { TuneOptions, TuneProgress, TuneResult, TuneTrial, TunedLayer } from './tune.js';
