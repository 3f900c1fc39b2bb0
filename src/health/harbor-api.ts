// The /readyz check and start-up line for Harbor's API: which one answers (or why none does), so a Harbor the
// service cannot ask shows as not ready instead of jobs ending quietly.
import type winston from 'winston';
import { describeHarbor } from '../harbor/detect.js';
import type { SelectedSource } from '../harbor/selected-source.js';
import type { CheckResult } from './readiness.js';

export async function harborApiCheck(harbor: SelectedSource): Promise<CheckResult> {
  try {
    return { ok: true, message: `${describeHarbor(await harbor.info())} answers at ${harbor.baseUrl}` };
  } catch (error) {
    return {
      ok: false,
      message: (error as Error).message,
      action:
        'set HarborAPI to the API HarborAddr serves (auto, v2, v1 or registry), or fix HarborAddr, HarborProtocol and the credentials',
    };
  }
}

/** Asks once at start-up; the source logs what it found, a failure is logged here (jobs retry it later). */
export function announceHarbor(harbor: SelectedSource, log: winston.Logger): void {
  harbor.info().catch((error: Error) => log.error(`Harbor's API cannot be used yet: ${error.message}`));
}
