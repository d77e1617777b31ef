/**
 * A small client for the Prometheus HTTP API (and anything that speaks it, such as promgate):
 * GET with a query string or POST with a urlencoded form, repeated parameters as arrays, the
 * JSON envelope parsed and narrowed.
 *
 * @example
 * ```ts
 * import { prometheusApi } from '../support/index.js';
 * const r = await prometheusApi(prom.url, '/api/v1/query', { query: 'up', time: 1704076200 });
 * if (!r.ok) assert.fail(r.error);           // r.status, r.errorType, r.error
 * r.data;                                    // { resultType, result }
 * const s = await prometheusApi(url, '/api/v1/series',
 *   { 'match[]': ['up', 'kube_pod_info'], start: 0, end: 2e9 },
 *   { method: 'POST', headers: { authorization: 'Bearer s3cr3t' } });
 * ```
 */

export type ParamValue = string | number | readonly (string | number)[];
export type Params = Readonly<Record<string, ParamValue | undefined>>;

export interface ApiRequestOptions {
  /** GET (query string, the default) or POST (urlencoded form body). */
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export type ApiResult<T> =
  | {
      readonly ok: true;
      readonly status: number;
      readonly data: T;
      readonly warnings?: readonly string[];
      readonly infos?: readonly string[];
      /** The raw JSON body. */
      readonly body: unknown;
    }
  | {
      readonly ok: false;
      readonly status: number;
      /** Prometheus's errorType (`bad_data`, …), or `http` when the body is not its JSON. */
      readonly errorType: string;
      readonly error: string;
      readonly body: unknown;
    };

/** Encodes params as `application/x-www-form-urlencoded`, arrays as repeated keys. */
export function encodeParams(params: Params = {}): string {
  const usp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v))
      for (const item of v as readonly (string | number)[]) usp.append(k, String(item));
    else usp.append(k, String(v));
  }
  return usp.toString();
}

/** Calls `base + path` and parses Prometheus's JSON envelope (never throws on HTTP errors). */
export async function prometheusApi<T = unknown>(
  base: string,
  path: string,
  params: Params = {},
  opts: ApiRequestOptions = {},
): Promise<ApiResult<T>> {
  const method = opts.method ?? 'GET';
  const qs = encodeParams(params);
  const url = `${base.replace(/\/$/, '')}${path}${method === 'GET' && qs ? `?${qs}` : ''}`;
  const res = await fetch(url, {
    method,
    headers: {
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...opts.headers,
    },
    body: method === 'POST' ? qs : undefined,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below as an http error
  }
  if (isRecord(body) && body.status === 'success' && res.ok) {
    return {
      ok: true,
      status: res.status,
      data: body.data as T,
      ...(Array.isArray(body.warnings) ? { warnings: body.warnings as string[] } : {}),
      ...(Array.isArray(body.infos) ? { infos: body.infos as string[] } : {}),
      body,
    };
  }
  if (isRecord(body) && body.status === 'error') {
    return {
      ok: false,
      status: res.status,
      errorType: String(body.errorType),
      error: String(body.error),
      body,
    };
  }
  return { ok: false, status: res.status, errorType: 'http', error: text.slice(0, 2000), body };
}

/** Like {@link prometheusApi}, but throws with the error text unless the call succeeded. */
export async function prometheusData<T = unknown>(
  base: string,
  path: string,
  params: Params = {},
  opts: ApiRequestOptions = {},
): Promise<T> {
  const r = await prometheusApi<T>(base, path, params, opts);
  if (!r.ok) {
    throw new Error(
      `${opts.method ?? 'GET'} ${base}${path} → ${r.status} ${r.errorType}: ${r.error}`,
    );
  }
  return r.data;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An instant-vector sample as the API returns it. */
export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** A range-vector series as the API returns it. */
export interface MatrixSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

export type QueryData =
  | { readonly resultType: 'vector'; readonly result: readonly VectorSample[] }
  | { readonly resultType: 'matrix'; readonly result: readonly MatrixSeries[] }
  | { readonly resultType: 'scalar' | 'string'; readonly result: readonly [number, string] };

/**
 * Sorts a query result into a canonical order (series by their label sets) so that answers
 * from two servers compare with deepEqual.
 */
export function canonicalResult(data: QueryData): QueryData {
  const key = (m: Readonly<Record<string, string>>): string =>
    JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const bySeries = <S extends { readonly metric: Readonly<Record<string, string>> }>(
    list: readonly S[],
  ): S[] =>
    list
      .map((s) => ({ s, k: key(s.metric) }))
      .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
      .map(({ s }) => s);
  switch (data.resultType) {
    case 'vector':
      return { resultType: 'vector', result: bySeries(data.result) };
    case 'matrix':
      return { resultType: 'matrix', result: bySeries(data.result) };
    default:
      return data;
  }
}
