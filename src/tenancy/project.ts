/**
 * `project` tenancy: a ServiceAccount sees every namespace whose project label (Rancher's
 * `field.cattle.io/projectId` by default) equals that of its own namespace, plus its own
 * namespace (REFERENCE §5). A namespace without the label is a project of one.
 *
 * Trust note: this is only sound if tenants cannot edit namespace labels (in Rancher, project
 * members cannot; plain-Kubernetes namespace admins can).
 *
 * @example
 *   projectNamespaces(informer, 'team-a'); // ['team-a', 'team-a-staging'] when both carry p-abc
 */
import type { NamespaceInformer } from './informer.js';

export function projectNamespaces(
  informer: Pick<NamespaceInformer, 'projectOf' | 'namespacesInProject'>,
  namespace: string,
): readonly string[] {
  const project = informer.projectOf(namespace);
  if (project === undefined) return [namespace];
  const members = informer.namespacesInProject(project);
  return members.includes(namespace) ? members : [...members, namespace];
}
