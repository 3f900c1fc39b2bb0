// Owns the one decision every entry point asks (webhooks, manual and API syncs, the CLI, the sweep, dry runs):
// is this image selected by the project's rules, and if not, which rule left it out. Harbor's replication
// semantics: every Include must match and no Exclude may; repository patterns see the name without the
// project (`team-a/**` under proj1 matches proj1/team-a/x). IncludeLabels wants one of the artifact's labels to
// match, ExcludeLabels leaves out an artifact with a matching one: with a plain label, Harbor's label filter with
// its `matching` and `excluding` decorations.
import { isLabelKey, type FilterRule } from './rules.js';

export interface ImageName {
  /** Without the project. */
  repository: string;
  tag: string;
  /**
   * The artifact's label names; undefined when not known (a webhook does not carry them, and only Harbor
   * 2.x's API lists them).
   */
  labels?: readonly string[];
}

/** Thrown when a label rule meets a source that cannot say which labels an artifact has. */
export class LabelsUnknownError extends Error {
  /** No retry makes the source list labels. */
  readonly permanent = true;

  constructor(rule: FilterRule) {
    super(
      `${rule.name} needs the artifact's labels, which only Harbor 2.x's API (v2.0) lists; this source cannot say them: remove the ${rule.key} rule or sync from Harbor 2.x`,
    );
    this.name = 'LabelsUnknownError';
  }
}

function passes(rule: FilterRule, name: string): boolean {
  const matched = rule.pattern.matches(name);
  return rule.key.startsWith('Include') ? matched : !matched;
}

/** The rule that leaves every tag of `repository` out, or undefined when its tags are looked at. */
export function repositoryFilteredBy(rules: readonly FilterRule[], repository: string): string | undefined {
  return rules.find((r) => r.key.endsWith('Repositories') && !passes(r, repository))?.name;
}

/**
 * The rule that leaves this image out, or undefined when it is selected. With `labels` undefined the label
 * rules are left to the caller that will know them (`labelsKnown: false`, the webhook: the job asks Harbor),
 * else refused with LabelsUnknownError: never copied unchecked.
 */
export function filteredBy(
  rules: readonly FilterRule[],
  image: ImageName,
  options: { labelsKnown?: boolean } = {},
): string | undefined {
  for (const rule of rules) {
    if (rule.key.endsWith('Repositories') && !passes(rule, image.repository)) return rule.name;
    if (rule.key.endsWith('Tags') && !passes(rule, image.tag)) return rule.name;
  }
  for (const rule of rules.filter((r) => isLabelKey(r.key))) {
    if (!image.labels) {
      if (options.labelsKnown === false) continue;
      throw new LabelsUnknownError(rule);
    }
    const matched = image.labels.some((label) => rule.pattern.matches(label));
    if (rule.key === 'IncludeLabels' ? !matched : matched) return rule.name;
  }
  return undefined;
}
