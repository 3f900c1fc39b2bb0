// Progress events of the copy engine, for the CLI's progress bars and the service's job progress and metrics.
import { EventEmitter } from 'node:events';
import type { ImageResult } from './results.js';

export type BlobAction = 'skipped' | 'mounted' | 'uploaded';

export interface CopyEventMap {
  'image-start': [{ source: string; destination: string }];
  'blob-start': [{ destination: string; digest: string; size: number }];
  'blob-progress': [{ destination: string; digest: string; bytes: number; size: number }];
  blob: [{ destination: string; digest: string; size: number; action: BlobAction; from?: string }];
  'image-done': [ImageResult];
  'image-skipped': [ImageResult];
  'image-failed': [ImageResult];
  retry: [{ destination: string; what: string; reason: string }];
}

export class CopyEvents extends EventEmitter<CopyEventMap> {}
