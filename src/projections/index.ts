export type { Projection, AnyProjection, BookStageReader, AppendOnlySeries } from './projection.js';
export { projectionVersion, foldProjection } from './projection.js';
export { ProjectionOptions, ReadModelOptions, projectionOptionsOf } from './options.js';
export type { ProjectionOptionsInput } from './options.js';
export { createProjections, READ_MODEL_NAMES } from './createProjections.js';
export type { ReadModelName } from './createProjections.js';
export { portfolioProjection } from './portfolio.js';
export type { PortfolioState, PortfolioData, PortfolioBook, PortfolioPosition, PortfolioTotals, ExposureRow } from './portfolio.js';
export { equityProjection, EQUITY_CURVE_FILE, EQUITY_CURVE_SAMPLES } from './equity.js';
export type { EquityState, EquityData, EquityBook, CurvePoint, MaxDrawdown, DrawdownBand, SeriesExtent } from './equity.js';
export { readEquityCurve } from './equityCurve.js';
export type { EquityCurve } from './equityCurve.js';
export { riskProjection } from './risk.js';
export type { RiskState, RiskData, RiskBook, PeriodStats, BreakerView } from './risk.js';
export { performanceProjection } from './performance.js';
export type { PerformanceState, PerformanceData, SetupPerformance, SetupSums } from './performance.js';
export { auditProjection, LEAK_CAUSES } from './audit.js';
export type {
  AuditState,
  AuditData,
  AuditBook,
  AuditLooks,
  AuditTotals,
  LeakCause,
  LeakStart,
  LateFillEpisode,
  Rendered,
  OrphanEpisode,
  PhantomEpisode,
  DriftRecord,
  ReconciliationRecord,
  OrderIncident,
} from './audit.js';
export { leakTotals, leakedIn } from './leakTotals.js';
export { leakReport, describeStart } from './leakReport.js';
export type { LeakRow, LeakReport } from './leakReport.js';
export type { LeakSums, LeakTotalsByKey, LeakEpisodeLike, LeakWindow } from './leakTotals.js';
export { ordersProjection, orderGroupOf, ORDERS_RECENT_FINISHED, ORDERS_RECENT_FILLS } from './orders.js';
export type { OrdersState, OrdersData, OrdersBook, OrdersTotals, OrderView, FillView, OrderGroup } from './orders.js';
export { ReadModelStore, documentChecksum, encodeDocument, decodeDocument, EventRef } from './readModelStore.js';
export type { ReadModelDocument, DocumentLoad, FileStamp, PreparedDocument } from './readModelStore.js';
export { checkRegression, LogRegressionError } from './guard.js';
export type { ProjectedExtent, RegressionDetail } from './guard.js';
export { startProjections } from './startProjections.js';
export type {
  StartProjectionsOptions,
  ProjectionsHandle,
  ProjectionsStatus,
  ProjectionStatus,
  ProjectionAlert,
  ProjectionLogger,
} from './runner.js';
export type { RunnerState, RunnerLifecycle } from './lifecycle.js';
export { rebuildReadModels, booksInReadModels } from './rebuild.js';
// Snapshot repair lives with the handler's snapshots; named here too, beside the rebuild that runs it.
export { repairBookSnapshots } from '../commands/index.js';
export type { RebuildOptions, RebuildProgress, RebuildResult } from './rebuild.js';
export { canonicalJson } from './_internals/canonicalJson.js';

// for other folders of src; not public
// The book stage, for replayAt (src/tracker/replay.ts), which folds the books as the runner does.
export { BookFold } from './_internals/bookFold.js';
export type { FoldStep } from './_internals/bookFold.js';
