// Owns posting to the service under test the webhook the Harbor stand-in builds for one push, as Harbor's
// jobservice posts it (Default payload unless CloudEvents is asked for).
import type { HarborStandIn, PushEvent } from './harbor/index.js';

export function postPushWebhook(
  harbor: HarborStandIn,
  serviceUrl: string,
  event: PushEvent,
  kind: 'default' | 'cloudevents' = 'default',
): Promise<Response> {
  const payload = harbor.webhookPayload(kind, event);
  return fetch(`${serviceUrl}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': payload.contentType },
    body: payload.body,
  });
}
