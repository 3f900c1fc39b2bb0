// The identity of a copy: the same (destination, repository, digest) asked twice is one job. And where a job
// writes: with several destinations, each target of a project is a job of its own that names its destination.

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

/** Where a job writes: a destination's registry host and a namespace there. */
export interface JobTarget {
  destination: string;
  namespace: string;
  /** The spec names the destination (the deployment has several); otherwise the default one is meant. */
  named: boolean;
}

/** The spec aimed at the target: its namespace, and its destination when named. */
export function aimedAt<S extends { namespace: string; destination?: string }>(spec: S, target: JobTarget): S {
  return { ...spec, namespace: target.namespace, ...(target.named ? { destination: target.destination } : {}) };
}
