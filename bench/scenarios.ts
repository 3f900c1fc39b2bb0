// Owns the shapes of the synthetic projects the benchmark copies (the scenarios a-d)
// and their targets. Sizes scale with BENCH_SCALE; repository and tag counts do not.
import type { LayerSpec } from '../tests/harness/layers.js';
import type { Format, Platform } from '../tests/harness/media-types.js';
import type { ScenarioId } from './options.js';

export interface TagPlan {
  tag: string;
  format: Format;
  /** One entry: a plain image; several: an index (manifest list) over these platforms. */
  images: Array<{ platform: Platform; layers: LayerSpec[] }>;
}

export interface RepoPlan {
  name: string;
  tags: TagPlan[];
}

export interface Targets {
  /** Median over runs of (our wall time / skopeo's wall time) must be at most this. */
  maxWallRatio?: number;
  /** Our peak RSS must stay below this many bytes. */
  maxOursPeakRss?: number;
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  prefix: string;
  repos: RepoPlan[];
  targets: Targets;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64', variant: 'v8' };

function scaled(bytes: number, scale: number): number {
  return Math.max(1024, Math.round(bytes * scale));
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** 10 repos x 2 tags x 3 layers, half the layer slots drawn from a pool shared by all repos. */
function manySmall(scale: number): Scenario {
  const size = scaled(2 * MiB, scale);
  const prefix = 'bench-a';
  let slot = 0;
  const layersFor = (owner: string): LayerSpec[] =>
    [0, 1, 2].map((i) => {
      const k = slot++;
      // Even slots come from a pool of 3: consecutive even slots never repeat within one image.
      return { size, seed: k % 2 === 0 ? `a-shared-${(k / 2) % 3}` : `a-${owner}-${i}` };
    });
  const repos: RepoPlan[] = [];
  for (let r = 0; r < 10; r++) {
    const name = `${prefix}/app-${pad(r, 2)}`;
    // Repos 0 and 1 are multi-arch (one Docker list, one OCI index); the rest alternate formats.
    const format: Format = r % 2 === 0 ? 'docker' : 'oci';
    const platforms = r < 2 ? [AMD64, ARM64] : [AMD64];
    const tags = ['v1', 'v2'].map((tag) => ({
      tag,
      format,
      images: platforms.map((platform) => ({ platform, layers: layersFor(`${r}-${tag}-${platform.architecture}`) })),
    }));
    repos.push({ name, tags });
  }
  return {
    id: 'a',
    title: '10 repos x 2 tags x 3 layers x 2 MiB, 50% shared, 2 multi-arch',
    prefix,
    repos,
    targets: { maxWallRatio: 0.55 },
  };
}

function fewBig(scale: number): Scenario {
  const size = scaled(100 * MiB, scale);
  const prefix = 'bench-b';
  const repos = [0, 1, 2].map((r): RepoPlan => ({
    name: `${prefix}/big-${r}`,
    tags: [
      {
        tag: 'v1',
        format: r === 1 ? 'oci' : 'docker',
        images: [{ platform: AMD64, layers: [0, 1].map((i) => ({ size, seed: `b-${r}-${i}` })) }],
      },
    ],
  }));
  return { id: 'b', title: '3 repos x 1 tag x 2 layers x 100 MiB', prefix, repos, targets: { maxWallRatio: 0.9 } };
}

function manyTiny(scale: number): Scenario {
  const size = scaled(64 * KiB, scale);
  const prefix = 'bench-c';
  const repos = Array.from({ length: 50 }, (_, r): RepoPlan => ({
    name: `${prefix}/tiny-${pad(r, 2)}`,
    tags: [
      {
        tag: 'v1',
        format: r % 2 === 0 ? 'docker' : 'oci',
        images: [{ platform: AMD64, layers: [{ size, seed: `c-${r}` }] }],
      },
    ],
  }));
  return { id: 'c', title: '50 repos x 1 tag x 1 layer x 64 KiB', prefix, repos, targets: { maxWallRatio: 0.42 } };
}

function oneHuge(scale: number): Scenario {
  const size = scaled(GiB, scale);
  const prefix = 'bench-d';
  const repos = [
    {
      name: `${prefix}/huge`,
      tags: [{ tag: 'v1', format: 'oci' as Format, images: [{ platform: AMD64, layers: [{ size, seed: 'd-huge' }] }] }],
    },
  ];
  return { id: 'd', title: '1 image, one 1 GiB layer', prefix, repos, targets: { maxOursPeakRss: 100 * 1000 * 1000 } };
}

export function scenario(id: ScenarioId, scale: number): Scenario {
  switch (id) {
    case 'a':
      return manySmall(scale);
    case 'b':
      return fewBig(scale);
    case 'c':
      return manyTiny(scale);
    case 'd':
      return oneHuge(scale);
  }
}
