/**
 * promgate's Kubernetes mode end to end against real Prometheus 3.5: for each tenancy mode
 * (serviceaccount, project, rbac) and each identity the Kubernetes API stand-in knows, every
 * answer through the real server equals the same request on a Prometheus holding exactly that
 * identity's namespaces; cluster-wide callers get the full server's answers; narrowing, 403 for
 * outsiders and 401 for bad tokens. See test/e2e/k8s-support/oracle.ts.
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import { kubernetesOracleSuite } from './k8s-support/oracle.js';

kubernetesOracleSuite({ version: 3, modes: ['serviceaccount', 'project', 'rbac'], stride: 4 });
