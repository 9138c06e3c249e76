import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll } from 'vitest';
import { Harness } from './harness.js';
import { Receiver } from './http.js';
import { startTemporal } from './temporal.js';

export type TemporalSuite = { env: TestWorkflowEnvironment; h: Harness; hooks: Receiver };

/**
 * One test file's real parts: a Temporal dev server, the harness on it (its own PostgreSQL
 * schema) and a local HTTP receiver, started before the file's tests and stopped after.
 */
export function temporalSuite(): TemporalSuite {
  const suite = {} as TemporalSuite;
  beforeAll(async () => {
    suite.env = await startTemporal();
    suite.h = await Harness.create(suite.env);
    suite.hooks = await new Receiver().start();
  });
  afterAll(async () => {
    await suite.hooks?.close();
    await suite.h?.close();
    await suite.env?.teardown();
  });
  return suite;
}
