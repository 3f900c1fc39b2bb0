// Platform filters (`linux/amd64`, `linux/arm64/v8`) for choosing children of a multi-arch index.
import type { Platform } from '../oci/index.js';

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
    throw new Error(
      `"${text}" is not a platform: write os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8`,
    );
  }
  return { os: parts[0], architecture: parts[1], variant: parts[2] };
}

export function platformMatches(wanted: Platform, actual: Platform | undefined): boolean {
  if (!actual) return false;
  if (wanted.os !== actual.os || wanted.architecture !== actual.architecture) return false;
  return wanted.variant === undefined || wanted.variant === actual.variant;
}
