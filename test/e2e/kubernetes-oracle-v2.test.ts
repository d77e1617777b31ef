/**
 * promgate's Kubernetes mode end to end against real Prometheus 2.42, `--tenancy project` only
 * (the 3.5 file covers every mode): each identity's answers equal those of a Prometheus holding
 * exactly its namespaces. See test/e2e/k8s-support/oracle.ts.
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import { kubernetesOracleSuite } from './k8s-support/oracle.js';

kubernetesOracleSuite({ version: 2, modes: ['project'], stride: 4 });
