/**
 * The query runtime's HTTP surface over one StorageReader: the native API, the Prometheus
 * API (both mounted under /api/v1 by the caller) and the Loki API (/loki/api/v1).
 */
import type express from 'express';
import type { Logger } from '../../common/log.js';
import type { RuntimeMetrics } from '../../common/metrics.js';
import type { StorageReader } from '../../storage/reader.js';
import type { LogDiscoveryConfig } from '../../ingestion/log-discovery.js';
import type { QueryEngine } from '../limits/engine.js';
import { parseLogQL } from '../logql/parse.js';
import { parseSeriesSelector } from '../promql/parse.js';
import { createLokiRouter } from './loki.js';
import { nativeRouter, type LogQuerySelector } from './native.js';
import { createPrometheusRouter } from './prometheus.js';

export interface QueryRouters {
  native: express.Router;
  prometheus: express.Router;
  loki: express.Router;
}

export function queryRouters(options: {
  reader: StorageReader;
  metrics: RuntimeMetrics;
  log: Logger;
  engine?: QueryEngine;
  /** What ingestion discovers, as drilldown-limits reports it (the same configuration section). */
  logDiscovery?: LogDiscoveryConfig;
}): QueryRouters {
  return {
    native: nativeRouter({
      reader: options.reader,
      metrics: options.metrics,
      parseLogQuery,
      parseMetricSelector: parseSeriesSelector,
      log: options.log,
    }),
    prometheus: createPrometheusRouter({ reader: options.reader, log: options.log, ...(options.engine ? { engine: options.engine } : {}) }),
    loki: createLokiRouter({
      reader: options.reader,
      log: options.log,
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.logDiscovery ? { logDiscovery: options.logDiscovery } : {}),
    }),
  };
}

/** The native search takes a LogQL *log* query: a selector and line filters, nothing else. */
function parseLogQuery(text: string): LogQuerySelector {
  const expr = parseLogQL(text);
  if (expr.type !== 'logs') throw new Error('expected a log query (a stream selector with optional line filters), got a metric query');
  if (expr.selector.pipeline.length > 0) {
    throw new Error(
      'the native search takes a stream selector and plain line filters only; use /loki/api/v1/query_range for parsers, label filters and formatters',
    );
  }
  return { matchers: expr.selector.matchers, lineFilters: expr.selector.lineFilters };
}
