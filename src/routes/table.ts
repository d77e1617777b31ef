/**
 * The tenant route table (DESIGN.md invariant 1): exact paths, matched on the raw request
 * target before any decoding and before authentication. `//api/v1/query`,
 * `/api/v1/../v1/query`, `/api/v1/%71uery`, `/api/v1/query/`, `/API/V1/QUERY` and every
 * path not listed here are not found. The route family doubles as the bounded `route`
 * label of promgate's metrics.
 *
 * @example
 *   matchRoute('/api/v1/query?query=up');               // { family: 'query', methods: ['GET','POST'] }
 *   matchRoute('/api/v1/label/U__namespace/values');    // { family: 'label_values', labelName: 'U__namespace', ... }
 *   matchRoute('/api/v1/%71uery');                      // undefined
 */

export type Family =
  | 'query'
  | 'query_range'
  | 'query_exemplars'
  | 'series'
  | 'labels'
  | 'label_values'
  | 'federate'
  | 'read'
  | 'rules'
  | 'alerts'
  | 'targets'
  | 'metadata'
  | 'buildinfo'
  | 'format_query'
  | 'parse_query';

export type Method = 'GET' | 'POST';

export interface RouteMatch {
  readonly family: Family;
  readonly methods: readonly Method[];
  /** The upstream path (before the upstream prefix); for label values, see `labelName`. */
  readonly path: string;
  /** `label/<name>/values`: the raw (still `U__`-escaped) name from the path. */
  readonly labelName?: string;
}

const GET_POST: readonly Method[] = ['GET', 'POST'];
const GET: readonly Method[] = ['GET'];
const POST: readonly Method[] = ['POST'];

const EXACT = new Map<string, RouteMatch>(
  (
    [
      ['/api/v1/query', 'query', GET_POST],
      ['/api/v1/query_range', 'query_range', GET_POST],
      ['/api/v1/query_exemplars', 'query_exemplars', GET_POST],
      ['/api/v1/series', 'series', GET_POST],
      ['/api/v1/labels', 'labels', GET_POST],
      ['/federate', 'federate', GET_POST],
      ['/api/v1/read', 'read', POST],
      ['/api/v1/rules', 'rules', GET],
      ['/api/v1/alerts', 'alerts', GET],
      ['/api/v1/targets', 'targets', GET],
      ['/api/v1/metadata', 'metadata', GET],
      ['/api/v1/status/buildinfo', 'buildinfo', GET],
      ['/api/v1/format_query', 'format_query', GET_POST],
      ['/api/v1/parse_query', 'parse_query', GET_POST],
    ] as const
  ).map(([path, family, methods]) => [path, { family, methods, path }]),
);

/** Raw label name segment: the legacy character set, which `U__` escaping maps everything into. */
const LABEL_VALUES = /^\/api\/v1\/label\/([A-Za-z0-9_]+)\/values$/;

/** Matches a raw request target (`req.url`: path plus optional query string). */
export function matchRoute(rawUrl: string): RouteMatch | undefined {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const exact = EXACT.get(path);
  if (exact) return exact;
  const m = LABEL_VALUES.exec(path);
  if (m?.[1] !== undefined) {
    return {
      family: 'label_values',
      methods: GET_POST,
      path: '/api/v1/label/{name}/values',
      labelName: m[1],
    };
  }
  return undefined;
}

/** The raw query string of a request target ('' when none). */
export function rawQueryString(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  return q < 0 ? '' : rawUrl.slice(q + 1);
}
