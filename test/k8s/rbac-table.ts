/**
 * The stand-in's authorizer: an in-memory table of grants evaluated the way Kubernetes RBAC
 * evaluates RoleBindings (namespaced) and ClusterRoleBindings (every namespace and the cluster
 * scope), with `*` wildcards for verbs, API groups and resources.
 *
 * @example
 *   const rbac = new RbacTable();
 *   const revoke = rbac.grant({ user: 'alice', namespace: 'team-a', verbs: ['get'], resources: ['pods'] });
 *   rbac.allows({ user: 'alice', groups: [] }, { namespace: 'team-a', verb: 'get', group: '', resource: 'pods' });
 *   revoke();
 */

export interface Grant {
  /** Subject: a user name or a group name (exactly one). */
  readonly user?: string;
  readonly group?: string;
  /** Namespace of the RoleBinding; omitted = a ClusterRoleBinding (all namespaces + cluster scope). */
  readonly namespace?: string;
  readonly verbs: readonly string[];
  /** API groups; default `['']` (the core group). */
  readonly apiGroups?: readonly string[];
  readonly resources: readonly string[];
}

export interface Subject {
  readonly user: string;
  readonly groups: readonly string[];
}

export interface ResourceRequest {
  /** Undefined or '' = cluster-scoped request. */
  readonly namespace?: string;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

interface Entry extends Grant {
  readonly id: number;
}

const matches = (list: readonly string[], value: string): boolean =>
  list.includes('*') || list.includes(value);

export class RbacTable {
  private entries: Entry[] = [];
  private nextId = 1;

  /** Adds a grant; returns a function that removes it again (like deleting the binding). */
  grant(grant: Grant): () => void {
    if ((grant.user === undefined) === (grant.group === undefined)) {
      throw new Error('a grant names exactly one of user or group');
    }
    const entry: Entry = { ...grant, id: this.nextId++ };
    this.entries.push(entry);
    return () => {
      this.entries = this.entries.filter((e) => e.id !== entry.id);
    };
  }

  clear(): void {
    this.entries = [];
  }

  /** The binding that allows the request, described like RBAC's `reason`, or undefined. */
  allows(subject: Subject, req: ResourceRequest): string | undefined {
    for (const e of this.entries) {
      const subjectOk =
        (e.user !== undefined && e.user === subject.user) ||
        (e.group !== undefined && subject.groups.includes(e.group));
      if (!subjectOk) continue;
      // A RoleBinding only grants inside its namespace; never at the cluster scope.
      if (e.namespace !== undefined && e.namespace !== req.namespace) continue;
      if (!matches(e.verbs, req.verb)) continue;
      if (!matches(e.apiGroups ?? [''], req.group)) continue;
      if (!matches(e.resources, req.resource)) continue;
      const kind = e.namespace === undefined ? 'ClusterRoleBinding' : 'RoleBinding';
      const who = e.user !== undefined ? `User "${e.user}"` : `Group "${e.group ?? ''}"`;
      return `RBAC: allowed by ${kind} "grant-${e.id}" to ${who}`;
    }
    return undefined;
  }
}
