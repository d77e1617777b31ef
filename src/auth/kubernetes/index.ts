/**
 * The `kubernetes` auth mode. (Stub: being written; the signature is the contract the server
 * codes against.)
 */
import type { Logger } from 'pino';
import type { AccessBackend } from '../types.js';
import type { Metrics } from '../../metrics.js';
import type { KubernetesOptions } from './options.js';

export type { KubernetesOptions } from './options.js';

export async function createKubernetesBackend(
  _options: KubernetesOptions,
  _deps: { readonly metrics: Metrics; readonly logger: Logger },
): Promise<AccessBackend> {
  throw new Error('kubernetes auth mode not implemented yet');
}
