// Owns making sure the tools the tests run for real are on this machine before jest starts:
// Debian's docker-registry and openssl (installed when root), and skopeo (reported only).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const REGISTRY = '/usr/bin/docker-registry';

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function missingTools() {
  const missing = [];
  if (!existsSync(REGISTRY)) missing.push('docker-registry');
  if (!onPath('openssl')) missing.push('openssl');
  return missing;
}

let missing = missingTools();
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`Tests need ${missing.join(' and ')}. Run: sudo apt-get install -y docker-registry openssl`);
    process.exit(1);
  }
  console.log(`Installing ${missing.join(' and ')} for the tests (apt-get)...`);
  const apt = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y docker-registry openssl'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  missing = missingTools();
  if (apt.status !== 0 || missing.length > 0) {
    console.error(`apt-get could not install ${missing.join(' and ') || 'the test tools'} (exit ${apt.status}).`);
    process.exit(1);
  }
}

// The benchmark copies with skopeo for comparison; the tests never need it.
if (!onPath('skopeo')) {
  console.log('Note: skopeo is not installed; only the benchmark uses it (apt-get install -y skopeo).');
}
