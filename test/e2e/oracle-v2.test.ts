/**
 * The differential oracle against real Prometheus 2.42 (Debian bookworm): promgate as a
 * tenant on the full server answers exactly what the tenant-only server answers, for every
 * valid corpus query (query, query_range), series, labels, label values and federate; the
 * operator gets the full server's answers. See test/e2e/support/oracle-suite.ts.
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import { oracleSuite } from './support/oracle-suite.js';

oracleSuite(2);
