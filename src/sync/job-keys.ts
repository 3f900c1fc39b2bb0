// The identity of a copy: the same (destination, repository, digest) asked twice is one job.

export function imageJobKey(
  destination: string,
  spec: { namespace: string; repository: string; digest: string },
): string {
  return `image ${destination}/${spec.namespace}/${spec.repository}@${spec.digest}`;
}
