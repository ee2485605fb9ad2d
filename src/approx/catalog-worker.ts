/**
 * A catalog worker thread (see catalog.ts, buildCatalogInParallel): fits the groups it is sent, reporting each
 * entry as it is done, then the group's files and index entries. Started from compiled JS only.
 */
import { parentPort } from 'node:worker_threads';
import { buildCatalogGroup, type CatalogSpec } from './catalog.js';

const port = parentPort;
if (port) {
  port.on('message', (m: { group: number; specs: CatalogSpec[] }) => {
    const result = buildCatalogGroup(m.specs, (spec) => port.postMessage({ type: 'entry', group: m.group, spec }));
    port.postMessage({ type: 'result', group: m.group, result });
  });
}
