// The `filters` field of POST /api/v1/sync: the app.conf filter keys, spelt the same, one pattern each
// (`{"IncludeTags": "v*", "ExcludeTags": "*-rc*"}`). They narrow the project's configured rules for this
// sync only: an image must pass both, so a request can never copy what app.conf leaves out.
import { FILTER_KEYS, requestRules, type FilterTexts } from '../filters/rules.js';
import { badRequest } from './errors.js';

export function optionalFilters(value: unknown, field = 'filters'): FilterTexts | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw badRequest(
      `${field} must be an object with one pattern per filter key (${FILTER_KEYS.join(', ')}), e.g. {"ExcludeTags": "*-rc*"}`,
    );
  const texts = value as FilterTexts;
  try {
    requestRules(texts, field);
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return { ...texts };
}
