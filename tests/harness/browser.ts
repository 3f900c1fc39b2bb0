// Owns starting Debian's chromium through playwright-core for page tests: the fixed flags, a fresh profile
// directory per launch (so no cookie or cached credential leaks between tests) and removing it afterwards.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

// No network the page did not ask for (updates, sync, QUIC probes): the test sees only its own requests.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Fails (never skips) when chromium is missing, saying how to install it. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the status page tests drive Debian's chromium; install it with \`apt-get install -y chromium\` (as root)`,
    );
  }
}

export async function launchChromium(
  options: {
    httpCredentials?: { username: string; password: string };
    viewport?: { width: number; height: number };
  } = {},
): Promise<LaunchedBrowser> {
  requireChromium();
  const profile = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      httpCredentials: options.httpCredentials,
      viewport: options.viewport ?? { width: 1280, height: 900 },
      deviceScaleFactor: 1,
      timeout: 30_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
