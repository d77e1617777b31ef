/**
 * How Kubernetes API trouble reaches callers and operators: a 503 {@link ApiError} with
 * `Retry-After` for the caller (never a 401/403: DESIGN invariant 7), and a rate-limited log line
 * for the operator, at `error` level when promgate's own credential is refused (someone must
 * grant `system:auth-delegator` or fix the kubeconfig), else `warn`.
 *
 * @example
 *   const report = new TroubleReporter(logger);
 *   catch (err) { throw report.unavailable('cannot review tokens', toKubeApiError(err, 'TokenReview')); }
 */
import type { Logger } from 'pino';
import { ApiError } from '../../errors.js';
import type { KubeApiError } from './client.js';

const CREDENTIAL_HINT =
  "promgate's own Kubernetes credential was refused: check the kubeconfig / ServiceAccount, " +
  'and that it is bound to system:auth-delegator (create tokenreviews, subjectaccessreviews) ' +
  'and may list/watch namespaces';

export class TroubleReporter {
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  /** Logs (rate-limited per operation and reason) and returns the 503 for the caller. */
  unavailable(what: string, err: KubeApiError): ApiError {
    this.log(err);
    const retry = Math.min(Math.max(err.retryAfterSeconds ?? 1, 1), 60);
    return new ApiError(
      503,
      'unavailable',
      `${what}: the Kubernetes API server cannot answer right now; retry later`,
      { 'retry-after': String(retry) },
    );
  }

  log(err: KubeApiError): void {
    const key = `${err.operation}/${err.reason}`;
    const now = performance.now();
    if (now - (this.lastLogged.get(key) ?? -Infinity) < this.intervalMs) return;
    this.lastLogged.set(key, now);
    const fields = {
      operation: err.operation,
      status: err.status,
      reason: err.reason,
      error: err.message,
    };
    if (err.isCredentialProblem) this.logger.error(fields, `kubernetes: ${CREDENTIAL_HINT}`);
    else this.logger.warn(fields, 'kubernetes: API call failed');
  }
}
