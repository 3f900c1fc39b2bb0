// Owns synthetic layer content: a deterministic, incompressible tar.gz generated as a stream,
// and its digests. Nothing here touches the network.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

/** `size` is the size of the one file inside the tar; the blob is a little larger (tar + gzip framing). */
export interface LayerSpec {
  size: number;
  seed: string;
}

export interface LayerDigests {
  /** sha256 of the gzipped blob, as pushed. */
  digest: string;
  /** Blob size in bytes. */
  size: number;
  /** sha256 of the uncompressed tar, for the config's rootfs.diff_ids. */
  diffId: string;
}

// Keystream pieces stay well under the 65535-byte limit of a stored deflate block, so every
// piece maps to exactly one block and the framing never depends on how a consumer reads.
const PIECE = 60 * 1024;
const MAX_STORED = 0xffff;
// No name, no mtime, OS "unknown": the header must not vary between machines or runs.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(spec: LayerSpec): Buffer {
  const h = Buffer.alloc(512);
  // The seed is not in the name: two seeds of one size would otherwise differ only here, which is
  // harmless, but a fixed name keeps the header independent of caller strings of any length.
  h.write('layer.bin', 0, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(spec.size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0' + '00', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function* tarPieces(spec: LayerSpec): Generator<Buffer> {
  if (!Number.isSafeInteger(spec.size) || spec.size < 0 || spec.size >= 8 ** 11) {
    throw new Error(`layer size out of range: ${spec.size}`);
  }
  yield tarHeader(spec);
  // AES-CTR keystream: incompressible and reproducible from the seed alone, and fast with AES-NI.
  const key = createHash('sha256').update(`swr-harbor-sync layer ${spec.seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(PIECE);
  for (let left = spec.size; left > 0; left -= PIECE) {
    yield cipher.update(left >= PIECE ? zeros : zeros.subarray(0, left));
  }
  const pad = (512 - (spec.size % 512)) % 512;
  yield Buffer.alloc(pad + 1024);
}

function storedBlock(data: Buffer, final: boolean): Buffer {
  const block = Buffer.allocUnsafe(5 + data.length);
  block[0] = final ? 1 : 0;
  block.writeUInt16LE(data.length, 1);
  block.writeUInt16LE(~data.length & 0xffff, 3);
  data.copy(block, 5);
  return block;
}

/**
 * The blob as a sequence of chunks. `onTar` sees the uncompressed tar bytes, so one pass can
 * produce both the blob digest and the diff_id.
 */
export function* layerChunks(spec: LayerSpec, onTar?: (piece: Buffer) => void): Generator<Buffer> {
  yield GZIP_HEADER;
  let crc = 0;
  let length = 0;
  for (const piece of tarPieces(spec)) {
    onTar?.(piece);
    for (let off = 0; off < piece.length; off += MAX_STORED) {
      const part = piece.subarray(off, off + MAX_STORED);
      crc = crc32(part, crc);
      length += part.length;
      yield storedBlock(part, false);
    }
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  yield Buffer.concat([storedBlock(Buffer.alloc(0), true), trailer]);
}

export function layerStream(spec: LayerSpec): Readable {
  return Readable.from(layerChunks(spec), { objectMode: false });
}

/** Blob size without generating anything: the framing is fixed by the file size. */
export function layerBlobSize(spec: LayerSpec): number {
  const tarLength = 512 + Math.ceil(spec.size / 512) * 512 + 1024;
  // One stored block per tar piece: the header, each keystream piece, the padding+end-of-archive.
  const blocks = 1 + Math.ceil(spec.size / PIECE) + 1;
  return GZIP_HEADER.length + tarLength + 5 * blocks + 5 + 8;
}

const cache = new Map<string, Promise<LayerDigests>>();

/** Streams the layer once through two hashes; remembered per (seed, size) for the process. */
export function layerDigest(spec: LayerSpec): Promise<LayerDigests> {
  const key = `${spec.size}\0${spec.seed}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = computeDigests(spec);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}

async function computeDigests(spec: LayerSpec): Promise<LayerDigests> {
  const blob = createHash('sha256');
  const tar = createHash('sha256');
  let size = 0;
  let n = 0;
  for (const chunk of layerChunks(spec, (piece) => tar.update(piece))) {
    blob.update(chunk);
    size += chunk.length;
    // Yield to the event loop now and then so hashing a 1 GiB layer does not starve servers
    // running in the same process (the fault proxy, a token server).
    if (++n % 256 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { digest: `sha256:${blob.digest('hex')}`, size, diffId: `sha256:${tar.digest('hex')}` };
}
