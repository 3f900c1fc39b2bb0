// The identity of a copy: the same (destination, repository, digest) asked twice is one job.

export function imageJobKey(
  destination: string,
  spec: { namespace: string; repository: string; digest: string },
): string {
  return `image ${destination}/${spec.namespace}/${spec.repository}@${spec.digest}`;
}

/** The sweep's deletion of what the service wrote for one source digest (Harbor's events make unkeyed jobs). */
export function deleteJobKey(
  destination: string,
  spec: { namespace: string; repository: string; digest: string },
): string {
  return `delete ${destination}/${spec.namespace}/${spec.repository}@${spec.digest}`;
}
