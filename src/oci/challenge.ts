// Parsing of WWW-Authenticate challenges (RFC 7235), which registries use to say how to authenticate.

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const PARAM = /^([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?\s*/;
const SCHEME = /^([A-Za-z][A-Za-z0-9_-]*)(?:\s+|\s*,\s*|$)/;

/** Parses `Bearer realm="x",service="y",scope="a b"`; several challenges in one header are told apart by their scheme. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (!header) return [];
  let rest = (Array.isArray(header) ? header.join(', ') : header).trim();
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  while (rest.length > 0) {
    const param = current ? PARAM.exec(rest) : null;
    if (param) {
      current!.params[param[1].toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3];
      rest = rest.slice(param[0].length);
      continue;
    }
    const scheme = SCHEME.exec(rest);
    if (!scheme) break;
    current = { scheme: scheme[1].toLowerCase(), params: {} };
    challenges.push(current);
    rest = rest.slice(scheme[0].length);
  }
  return challenges;
}
