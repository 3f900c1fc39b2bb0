// The copy plan that a copy and its dry run share: write or overwrite, and the manifest format. Pure, with
// the media types of the source manifest; plus the typed check of registry error codes that decisions use.
import { describe, expect, test } from '@jest/globals';
import { describePlan, mayBeConverted, planImageCopy, type ImageCopyFacts } from '../../src/copy/image-plan.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  hasCode,
  OCI_INDEX,
  OCI_MANIFEST,
  RegistryError,
} from '../../src/oci/index.js';

const facts = (over: Partial<ImageCopyFacts>): ImageCopyFacts => ({
  mediaType: OCI_MANIFEST,
  manifestFormat: 'auto',
  destinationDockerOnly: false,
  ...over,
});

describe('planImageCopy', () => {
  test('an OCI image under ManifestFormat=auto goes as OCI, converted only if the destination refuses it', () => {
    expect(planImageCopy(facts({}))).toEqual({ write: 'copy', format: 'docker-if-refused' });
    expect(planImageCopy(facts({ mediaType: OCI_INDEX })).format).toBe('docker-if-refused');
  });

  test('converted up front under ManifestFormat=docker, or once the host has refused OCI', () => {
    expect(planImageCopy(facts({ manifestFormat: 'docker' })).format).toBe('docker');
    expect(planImageCopy(facts({ destinationDockerOnly: true })).format).toBe('docker');
  });

  test('never converted under ManifestFormat=preserve, nor when the source is in Docker formats already', () => {
    expect(planImageCopy(facts({ manifestFormat: 'preserve', destinationDockerOnly: true })).format).toBe('as-is');
    for (const mediaType of [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]) {
      expect(planImageCopy(facts({ mediaType, manifestFormat: 'docker' })).format).toBe('as-is');
    }
  });

  test('an existing tag is overwritten, and the plan says what it points at now', () => {
    expect(planImageCopy(facts({ existingDigest: 'sha256:old', mediaType: DOCKER_MANIFEST }))).toEqual({
      write: 'overwrite',
      existingDigest: 'sha256:old',
      format: 'as-is',
    });
  });
});

describe('describePlan', () => {
  test('says what the copy would do, in the words the dry run has always used', () => {
    expect(describePlan(planImageCopy(facts({ mediaType: DOCKER_MANIFEST })))).toBe('dry run: would copy');
    expect(describePlan(planImageCopy(facts({ manifestFormat: 'docker' })))).toBe(
      'dry run: would copy, converted to Docker format',
    );
    expect(describePlan(planImageCopy(facts({})))).toBe(
      'dry run: would copy as OCI; converted to Docker format if the destination refuses OCI (ManifestFormat=auto)',
    );
    expect(describePlan(planImageCopy(facts({ mediaType: DOCKER_MANIFEST, existingDigest: 'sha256:old' })))).toBe(
      'dry run: would overwrite the tag (now sha256:old)',
    );
  });
});

test('mayBeConverted: OCI manifests and indexes, unless ManifestFormat=preserve', () => {
  expect(mayBeConverted(OCI_MANIFEST, undefined)).toBe(true);
  expect(mayBeConverted(OCI_INDEX, 'docker')).toBe(true);
  expect(mayBeConverted(OCI_MANIFEST, 'preserve')).toBe(false);
  expect(mayBeConverted(DOCKER_MANIFEST, 'auto')).toBe(false);
});

test('hasCode matches RegistryErrors by code only', () => {
  const error = new RegistryError({ code: 'MANIFEST_INVALID', status: 400, host: 'h', message: 'm' });
  expect(hasCode(error, 'MANIFEST_INVALID', 'UNSUPPORTED')).toBe(true);
  expect(hasCode(error, 'BLOB_UNKNOWN')).toBe(false);
  expect(hasCode(Object.assign(new Error('m'), { code: 'MANIFEST_INVALID' }), 'MANIFEST_INVALID')).toBe(false);
});
