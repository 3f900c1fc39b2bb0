// Owns the disk side of the webhook benchmark: a neighbour that loads the disk (`dd ... oflag=dsync`, a synced
// write per 4 KiB block, bounded in bytes and time, its file in the bench's temp dir) and a probe that measures
// the disk's own fsync latency (write 4 KiB + fsync in a loop, in a worker thread so it never delays the
// bench's own requests).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface Neighbour {
  /** Kills dd and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts dd writing `maxBytes` with O_DSYNC into `dir`, again on the same file whenever it finishes, until
 * stop() or `maxMs`: the file never grows past `maxBytes` and nothing outlives the bench.
 */
export function startNeighbour(dir: string, maxBytes = 64 * 1024 * 1024, maxMs = 300_000): Neighbour {
  const file = join(dir, 'neighbour.dat');
  const count = Math.max(1, Math.floor(maxBytes / 4096));
  const deadline = Date.now() + maxMs;
  let stopped = false;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const run = (): void => {
    if (stopped || Date.now() > deadline) return;
    child = spawn('dd', ['if=/dev/zero', `of=${file}`, 'bs=4k', `count=${count}`, 'oflag=dsync', 'conv=notrunc'], {
      stdio: 'ignore',
    });
    exited = new Promise((resolve) => child!.once('exit', () => resolve()));
    child.once('exit', run);
  };
  run();
  const timer = setTimeout(() => child?.kill('SIGKILL'), maxMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      child?.kill('SIGKILL');
      await exited;
    },
  };
}

export interface FsyncProbe {
  /** Stops the loop and returns each write+fsync's duration in ms, sorted. */
  stop(): Promise<number[]>;
}

const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, writeSync, fsyncSync, closeSync } = require('node:fs');
const fd = openSync(workerData.file, 'w');
const block = Buffer.alloc(4096, 7);
const times = [];
let stop = false;
parentPort.on('message', () => { stop = true; });
function loop() {
  // A batch between turns so the stop message is read; a pause so the probe is a light load itself.
  for (let i = 0; i < 5 && !stop; i++) {
    const t = performance.now();
    writeSync(fd, block, 0, block.length, 0);
    fsyncSync(fd);
    times.push(performance.now() - t);
  }
  if (stop) { closeSync(fd); parentPort.postMessage(times); return; }
  setTimeout(loop, 20);
}
loop();
`;

/** Starts timing write+fsync of one 4 KiB block in `dir`, about 5 every 20 ms plus the fsyncs' own time. */
export function startFsyncProbe(dir: string): FsyncProbe {
  const worker = new Worker(PROBE, { eval: true, workerData: { file: join(dir, 'fsync-probe.dat') } });
  return {
    stop: () =>
      new Promise<number[]>((resolve, reject) => {
        worker.once('message', (times: number[]) => {
          void worker.terminate();
          resolve(times.sort((a, b) => a - b));
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}
