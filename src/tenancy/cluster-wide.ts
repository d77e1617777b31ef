/**
 * Who gets scope *all*: members of a configured group (`--cluster-wide-group`), or identities
 * granted a configured cluster-scoped permission (`--cluster-wide-permission`, default
 * `get:namespaces`), checked by a SubjectAccessReview without a namespace — so only
 * ClusterRoleBinding-level grants count (REFERENCE §4.3). The answer is cached like any SAR.
 *
 * @example
 *   const clusterWide = new ClusterWideCheck(reviews, { groups: ['platform-admins'],
 *     permission: { verb: 'get', group: '', resource: 'namespaces' } });
 *   if (await clusterWide.isClusterWide(identity)) return ALL;
 */
import type { Identity } from '../auth/types.js';
import type { AccessReviews } from './access-reviews.js';

export interface ClusterWideOptions {
  readonly groups: readonly string[];
  readonly permission: {
    readonly verb: string;
    readonly group: string;
    readonly resource: string;
  } | null;
}

export class ClusterWideCheck {
  private readonly groups: ReadonlySet<string>;

  constructor(
    private readonly reviews: Pick<AccessReviews, 'check'>,
    private readonly options: ClusterWideOptions,
  ) {
    this.groups = new Set(options.groups);
  }

  /** Throws {@link KubeApiError} when the permission cannot be checked. */
  async isClusterWide(identity: Identity): Promise<boolean> {
    if (identity.groups.some((g) => this.groups.has(g))) return true;
    const permission = this.options.permission;
    if (!permission) return false;
    const { allowed } = await this.reviews.check(identity, permission);
    return allowed;
  }
}
