// One line of check-config and of the start-up preflight: what was checked, and how it went.

export interface CheckResult {
  ok: boolean;
  /** Passed, but something will not work as it might (printed as `warn`). */
  warning?: boolean;
  what: string;
  detail: string;
}
