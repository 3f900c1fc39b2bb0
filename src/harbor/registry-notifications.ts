// The registry notification endpoint to add by hand where Harbor has no webhook policies (1.x before 1.9) or
// HarborAddr is a plain registry: the `notifications:` block of Distribution's config.yml, with Harbor 1.x's
// own settings for its endpoint (timeout 3000ms, threshold 5, backoff 1s).

/** Placeholder for the header value: the snippet is printed, and the secret must not be. */
export const AUTH_HEADER_PLACEHOLDER = '<the value of WebhookAuthHeader>';

export function registryNotificationSnippet(address: string, withAuthHeader: boolean): string {
  return [
    'notifications:',
    '  endpoints:',
    '    - name: swr-harbor-sync',
    '      disabled: false',
    `      url: ${address}`,
    ...(withAuthHeader ? ['      headers:', `        Authorization: ['${AUTH_HEADER_PLACEHOLDER}']`] : []),
    '      timeout: 3000ms',
    '      threshold: 5',
    '      backoff: 1s',
  ].join('\n');
}
