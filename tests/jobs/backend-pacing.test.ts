// On SQLite (one process), every client the service makes for a host (each job's, a manual call's, the sweep's)
// paces through one bucket: SWR counts the tenant's requests together, not per client.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@jest/globals';
import winston from 'winston';
import { parseConfig } from '../../src/config/config.js';
import { openBackend } from '../../src/main/backend.js';
import { testServiceConfig } from '../harness/service.js';

test('one bucket per registry host for the whole process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-pacing-'));
  const raw = await testServiceConfig('127.0.0.1:1', '127.0.0.1:2', join(dir, 'logs'), join(dir, 'data'));
  const backend = await openBackend(
    parseConfig({ ...raw, QueueBackend: 'sqlite' }),
    winston.createLogger({ silent: true }),
  );
  try {
    const swr = backend.pacer?.('swr.cn-north-4.myhuaweicloud.com', 20);
    expect(swr).toBeDefined();
    expect(backend.pacer?.('swr.cn-north-4.myhuaweicloud.com', 20)).toBe(swr);
    expect(backend.pacer?.('harbor.example.com', 0)).not.toBe(swr);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
});
