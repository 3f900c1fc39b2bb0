// The readiness ping against a registry that drips its answer: undici's header and body timeouts restart with
// every byte, so only a deadline over the whole exchange ends it. /readyz waits on this ping.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { pingRegistry } from '../../src/health/registry-ping.js';
import { startHostilePeer, type HostilePeer } from '../harness/hostile/peer.js';

let peer: HostilePeer;

beforeAll(async () => {
  peer = await startHostilePeer();
});

afterAll(async () => {
  await peer?.stop();
});

test('a /v2/ answer that drips a byte well within the timeout, without end, still ends the ping at the timeout', async () => {
  peer.script(() => ({ status: 200, body: '{', endless: { chunk: ' ', everyMs: 100 } }));
  const started = Date.now();
  const result = await pingRegistry({ host: peer.host, insecure: true }, 600);
  const took = Date.now() - started;
  // Answered in time, whatever the body does after the status: the registry is there.
  expect(result).toEqual({ answered: true });
  expect(took).toBeLessThan(600 + 2_000);
});

test('headers that never come end the ping at the timeout, with the reason', async () => {
  peer.script(() => ({ hang: true }));
  const started = Date.now();
  const result = await pingRegistry({ host: peer.host, insecure: true }, 600);
  expect(result).toEqual({ answered: false, reason: `GET http://${peer.host}/v2/ got no answer within 0.6 s` });
  expect(Date.now() - started).toBeLessThan(600 + 2_000);
});
