// Owns the credential trap: a hostile peer posing as a token service or redirect target that records every
// request, and the check that none of them carried credentials (an Authorization header, or user:password in the URL).
import { startHostilePeer, type HostilePeer, type RecordedRequest } from './peer.js';

export interface CredentialTrap extends HostilePeer {
  /** Throws, listing them, when any request the trap received carried credentials. */
  assertNoCredentials(): void;
}

function carriesCredentials(req: RecordedRequest, secrets: string[]): boolean {
  if (req.headers.authorization !== undefined || req.headers['proxy-authorization'] !== undefined) return true;
  const text = `${req.url} ${JSON.stringify(req.headers)}`;
  return (
    /basic\s+[a-z0-9+/=]{4,}/i.test(text) ||
    secrets.some((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)))
  );
}

/** `secrets` (passwords) must appear nowhere in what the trap receives; every path answers a harmless token. */
export async function startCredentialTrap(secrets: string[], address?: string): Promise<CredentialTrap> {
  const peer = await startHostilePeer({ address });
  peer.script(() => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"token":"trap-token","expires_in":300}',
  }));
  return {
    ...peer,
    assertNoCredentials: () => {
      const caught = peer.requests.filter((r) => carriesCredentials(r, secrets));
      if (caught.length > 0) {
        throw new Error(
          `credentials reached the trap at ${peer.host}: ${caught.map((r) => `${r.scheme} ${r.method} ${r.url} authorization=${r.headers.authorization ?? '-'}`).join('; ')}`,
        );
      }
    },
  };
}
