// Owns making sure the tools the tests run for real are on this machine before jest starts: Debian's
// docker-registry, openssl, chromium, redis-server and tinyproxy (installed when root), and skopeo (reported only).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Debian package -> the binary the tests start.
const TOOLS = {
  'docker-registry': '/usr/bin/docker-registry',
  openssl: 'openssl',
  chromium: '/usr/bin/chromium',
  'redis-server': '/usr/bin/redis-server',
  tinyproxy: '/usr/bin/tinyproxy',
};

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function missingTools() {
  return Object.entries(TOOLS)
    .filter(([, binary]) => (binary.startsWith('/') ? !existsSync(binary) : !onPath(binary)))
    .map(([pkg]) => pkg);
}

let missing = missingTools();
if (missing.length > 0) {
  const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    console.error(`Tests need ${missing.join(', ')}. Run: sudo apt-get update && sudo ${install}`);
    process.exit(1);
  }
  console.log(`Installing ${missing.join(', ')} for the tests (apt-get)...`);
  const apt = spawnSync('sh', ['-c', `apt-get update && ${install}`], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  missing = missingTools();
  if (apt.status !== 0 || missing.length > 0) {
    console.error(`apt-get could not install ${missing.join(', ') || 'the test tools'} (exit ${apt.status}).`);
    process.exit(1);
  }
}

// The benchmark copies with skopeo for comparison; the tests never need it.
if (!onPath('skopeo')) {
  console.log('Note: skopeo is not installed; only the benchmark uses it (apt-get install -y skopeo).');
}
