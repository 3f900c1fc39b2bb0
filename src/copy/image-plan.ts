// The decisions of one image copy that need nothing from the network: whether to write the tag or replace it,
// and in which manifest format. The copy and its dry run both take them from here, so that a dry run says
// exactly what the copy would do; the reconcile sweep asks the same question about conversion.
import { isOciManifestType } from './convert.js';
import type { CopyOptions } from './options.js';

export type ManifestFormat = CopyOptions['manifestFormat'];

/**
 * `as-is`: pushed in the source's format; `docker`: converted before the push; `docker-if-refused`: pushed as
 * OCI, converted if the destination refuses OCI (ManifestFormat=auto on a host not yet known to refuse it).
 */
export type FormatChoice = 'as-is' | 'docker' | 'docker-if-refused';

export interface ImageCopyPlan {
  /** `overwrite`: the destination tag exists and points at another digest. */
  write: 'copy' | 'overwrite';
  /** What the destination tag points at now, when it exists. */
  existingDigest?: string;
  format: FormatChoice;
}

export interface ImageCopyFacts {
  /** Media type of the manifest to push (after the platform filter). */
  mediaType: string;
  existingDigest?: string;
  manifestFormat: ManifestFormat;
  /** The destination host already refused an OCI manifest in this process. */
  destinationDockerOnly: boolean;
}

/** What a copy does past every reason to skip. */
export function planImageCopy(facts: ImageCopyFacts): ImageCopyPlan {
  return {
    write: facts.existingDigest ? 'overwrite' : 'copy',
    ...(facts.existingDigest ? { existingDigest: facts.existingDigest } : {}),
    format: formatChoice(facts),
  };
}

function formatChoice({ mediaType, manifestFormat, destinationDockerOnly }: ImageCopyFacts): FormatChoice {
  if (!mayBeConverted(mediaType, manifestFormat)) return 'as-is';
  return manifestFormat === 'docker' || destinationDockerOnly ? 'docker' : 'docker-if-refused';
}

/** Whether the destination may hold this manifest converted to Docker formats (so digests compare through the conversion). */
export function mayBeConverted(mediaType: string, manifestFormat: ManifestFormat | undefined): boolean {
  return manifestFormat !== 'preserve' && isOciManifestType(mediaType);
}

/** A dry run's account of a plan, as users read it in results and on the command line. */
export function describePlan(plan: ImageCopyPlan): string {
  const action = plan.write === 'overwrite' ? `would overwrite the tag (now ${plan.existingDigest})` : 'would copy';
  const format =
    plan.format === 'docker'
      ? ', converted to Docker format'
      : plan.format === 'docker-if-refused'
        ? ' as OCI; converted to Docker format if the destination refuses OCI (ManifestFormat=auto)'
        : '';
  return `dry run: ${action}${format}`;
}
