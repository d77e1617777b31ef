/**
 * The handler of each route family. Route matching (`table.ts`) and the shared pipeline
 * (authentication, scope, narrowing, parameters) live in `server.ts`; each handler decides
 * the upstream request for its endpoints.
 */
import type { Handler } from './context.js';
import { buildinfoHandler, filteredHandler, metadataHandler } from './filtered.js';
import { federateHandler } from './federate.js';
import { parseOnlyHandler, queryHandler } from './query.js';
import { readHandler } from './read.js';
import { labelsHandler, labelValuesHandler, seriesHandler } from './series.js';
import type { Family } from './table.js';

export const HANDLERS: Readonly<Record<Family, Handler>> = {
  query: queryHandler,
  query_range: queryHandler,
  query_exemplars: queryHandler,
  format_query: parseOnlyHandler,
  parse_query: parseOnlyHandler,
  series: seriesHandler,
  labels: labelsHandler,
  label_values: labelValuesHandler,
  federate: federateHandler,
  read: readHandler,
  rules: filteredHandler,
  alerts: filteredHandler,
  targets: filteredHandler,
  metadata: metadataHandler,
  buildinfo: buildinfoHandler,
};

export type { Handler, RouteContext } from './context.js';
export { matchRoute, rawQueryString, type Family, type RouteMatch } from './table.js';
