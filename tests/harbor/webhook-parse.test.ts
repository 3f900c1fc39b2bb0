// parseNotification over every recorded payload shape (Harbor 2.x Default and CloudEvents, Harbor 1.10's
// pushImage, the registry's notification envelopes of Harbor 1.x), envelopes with some bad events, the cap on
// pushes per notification, and malformed bodies that must fail with a sentence that helps.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { MAX_PUSHES_PER_NOTIFICATION, NotificationError, parseNotification } from '../../src/harbor/webhook.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

const API_DIGEST = 'sha256:60c53cf43e42f43ae8490dbaa5c151336113994fab54394f7ca3e6bea4b02384';
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('every fixture', () => {
  test('Harbor Default push: project, nested repository, digest and tag', () => {
    expect(parseNotification(fixture('harbor-push-default.json'))).toEqual({
      pushes: [
        { project: 'platform', repository: 'backend/api', digest: API_DIGEST, tag: 'v1.4.2', format: 'default' },
      ],
      deletes: [],
      ignored: [],
    });
  });

  test('Harbor Default push whose tag is the digest: no tag', () => {
    const parsed = parseNotification(fixture('harbor-push-default-digest-tag.json'));
    expect(parsed.pushes).toHaveLength(1);
    expect(parsed.pushes[0]).toEqual({
      project: 'platform',
      repository: 'web',
      digest: 'sha256:2efbc67a789d82bd052e3773d197635ae5070d9a01c64635317fbcad7a5a2807',
      tag: undefined,
      format: 'default',
    });
    expect(parsed.ignored).toEqual([]);
  });

  test('Harbor CloudEvents push', () => {
    expect(parseNotification(fixture('harbor-push-cloudevents.json'))).toEqual({
      pushes: [
        {
          project: 'library',
          repository: 'nginx',
          digest: 'sha256:c8316cb5da053a09d0a2204547abeba60f6a458608bc2b67f96ee69792127e05',
          tag: '2.3.0',
          format: 'cloudevents',
        },
      ],
      deletes: [],
      ignored: [],
    });
  });

  test('a Default pull event is ignored, and says so', () => {
    expect(parseNotification(fixture('harbor-pull-default.json'))).toEqual({
      pushes: [],
      deletes: [],
      ignored: ['Harbor event PULL_ARTIFACT is not a push'],
    });
  });

  test('a CloudEvents delete event is a delete of that digest, naming its tag', () => {
    expect(parseNotification(fixture('harbor-delete-cloudevents.json'))).toEqual({
      pushes: [],
      deletes: [
        {
          project: 'platform',
          repository: 'backend/api',
          digest: 'sha256:f92b3f88c3024a7a36673b1fb46fec5dbec9e827842b0739c45dcdbb383d86d2',
          tag: '1.0.0-rc1',
          format: 'cloudevents',
        },
      ],
      ignored: [],
    });
  });

  test.each(['distribution-envelope-v1.json', 'distribution-envelope-v2.json'])(
    'registry envelope %s: the manifest push only',
    (name) => {
      expect(parseNotification(fixture(name))).toEqual({
        pushes: [
          { project: 'platform', repository: 'backend/api', digest: API_DIGEST, tag: 'v1.4.2', format: 'distribution' },
        ],
        deletes: [],
        ignored: ['push of application/vnd.oci.image.layer.v1.tar+gzip (not a manifest)', 'registry pull event'],
      });
    },
  );
});

describe('other valid shapes', () => {
  const defaultPush = (resources: unknown[]) => ({
    type: 'PUSH_ARTIFACT',
    event_data: { resources, repository: { name: 'app', namespace: 'proj' } },
  });

  test('several resources in one event become several pushes; an empty or null tag means no tag', () => {
    const other = `sha256:${'b'.repeat(64)}`;
    const third = `sha256:${'c'.repeat(64)}`;
    const parsed = parseNotification(
      defaultPush([
        { digest: DIGEST, tag: 'v1' },
        { digest: other, tag: '' },
        { digest: third, tag: null },
      ]),
    );
    expect(parsed.pushes.map((p) => [p.digest, p.tag])).toEqual([
      [DIGEST, 'v1'],
      [other, undefined],
      [third, undefined],
    ]);
  });

  test('an envelope repository outside any project, a manifest index push and a manifest delete', () => {
    const parsed = parseNotification({
      events: [
        {
          action: 'push',
          target: {
            mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
            digest: DIGEST,
            repository: 'toplevel',
            tag: 'v1',
          },
        },
        {
          action: 'push',
          target: {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: DIGEST,
            repository: 'proj/multi',
            tag: 'v2',
          },
        },
        { action: 'delete', target: { repository: 'proj/multi', digest: DIGEST } },
      ],
    });
    expect(parsed.pushes).toEqual([
      { project: 'proj', repository: 'multi', digest: DIGEST, tag: 'v2', format: 'distribution' },
    ]);
    expect(parsed.deletes).toEqual([
      { project: 'proj', repository: 'multi', digest: DIGEST, tag: undefined, format: 'distribution' },
    ]);
    expect(parsed.ignored).toEqual(['repository toplevel is not inside a Harbor project']);
  });

  test('an empty envelope is nothing to do, not an error', () => {
    expect(parseNotification({ events: [] })).toEqual({ pushes: [], deletes: [], ignored: [] });
  });
});

describe('Harbor 1.9/1.10 webhooks', () => {
  test('pushImage is a push, read like 2.x Default; every other 1.x event type is ignored with the reason', () => {
    expect(parseNotification(fixture('harbor-1.10-pushImage.json'))).toEqual({
      pushes: [
        { project: 'platform', repository: 'backend/api', digest: API_DIGEST, tag: 'v1.4.2', format: 'default' },
      ],
      deletes: [],
      ignored: [],
    });
    expect(parseNotification(fixture('harbor-1.10-pullImage.json'))).toEqual({
      pushes: [],
      deletes: [],
      ignored: ['Harbor event pullImage is not a push'],
    });
    expect(parseNotification(fixture('harbor-1.10-uploadChart.json'))).toEqual({
      pushes: [],
      deletes: [],
      ignored: ['Harbor event uploadChart is not a push'],
    });
    for (const type of [
      'downloadChart',
      'deleteChart',
      'scanningCompleted',
      'scanningFailed',
      'projectQuota',
      'testEndpoint',
    ]) {
      const body = {
        type,
        occur_at: 1586922308,
        operator: 'admin',
        event_data: {
          resources: [{ tag: 'v1' }],
          repository: { name: 'app', namespace: 'proj', repo_full_name: 'proj/app', repo_type: 'private' },
        },
      };
      expect(parseNotification(body)).toEqual({
        pushes: [],
        deletes: [],
        ignored: [`Harbor event ${type} is not a push`],
      });
    }
  });
});

describe('an envelope with bad events: the good ones are taken, the bad ones listed with the reason', () => {
  const manifest = 'application/vnd.oci.image.manifest.v1+json';
  const good = { action: 'push', target: { mediaType: manifest, digest: DIGEST, repository: 'proj/app', tag: 'v1' } };

  test('each kind of malformed event among good ones', () => {
    const parsed = parseNotification({
      events: [
        { action: 'push' },
        good,
        null,
        { action: 'push', target: { mediaType: manifest, digest: 'md5:00', repository: 'proj/app', tag: 'v1' } },
        { action: 'push', target: { mediaType: manifest, digest: DIGEST, repository: 'proj/../../etc', tag: 'v1' } },
      ],
    });
    expect(parsed.pushes).toEqual([
      { project: 'proj', repository: 'app', digest: DIGEST, tag: 'v1', format: 'distribution' },
    ]);
    expect(parsed.ignored).toEqual([
      'events[0] is malformed: every entry of "events" needs a "target" object',
      'events[2] is malformed: every entry of "events" needs a "target" object',
      'events[3] is malformed: digest "md5:00" is not a sha256 digest',
      'events[4] is malformed: repository "../../etc" is not a valid repository name',
    ]);
  });

  test('an envelope of bad events only is still an answer, not an error', () => {
    expect(parseNotification({ events: [null, 7] })).toEqual({
      pushes: [],
      deletes: [],
      ignored: [
        'events[0] is malformed: every entry of "events" needs a "target" object',
        'events[1] is malformed: every entry of "events" needs a "target" object',
      ],
    });
  });
});

describe('at most MAX_PUSHES_PER_NOTIFICATION pushes from one notification', () => {
  test('8,000 resources in one Harbor event: 100 pushes, the rest one ignored line with the count', () => {
    const resources = Array.from({ length: 8000 }, (_, i) => ({
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      tag: `t${i}`,
    }));
    const parsed = parseNotification({
      type: 'PUSH_ARTIFACT',
      event_data: { resources, repository: { name: 'app', namespace: 'proj' } },
    });
    expect(parsed.pushes).toHaveLength(MAX_PUSHES_PER_NOTIFICATION);
    expect(parsed.pushes[99].tag).toBe('t99');
    expect(parsed.ignored).toHaveLength(1);
    expect(parsed.ignored[0]).toMatch(/^7900 more resources of the event not read: at most 100/);
  });

  test('250 events in one envelope: 100 read, the rest counted', () => {
    const events = Array.from({ length: 250 }, (_, i) => ({
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: DIGEST,
        repository: 'proj/app',
        tag: `t${i}`,
      },
    }));
    const parsed = parseNotification({ events });
    expect(parsed.pushes).toHaveLength(100);
    expect(parsed.ignored).toEqual([expect.stringMatching(/^150 more events of the envelope not read/)]);
  });
});

describe('malformed bodies throw NotificationError with a helpful message', () => {
  const repository = { name: 'app', namespace: 'proj' };
  test.each<[string, unknown, RegExp]>([
    ['null', null, /expected a JSON object/],
    ['an array', [{ type: 'PUSH_ARTIFACT' }], /expected a JSON object/],
    ['a string', 'PUSH_ARTIFACT', /expected a JSON object/],
    ['a number', 42, /expected a JSON object/],
    [
      'an unknown object',
      { hello: 'world' },
      /unrecognised notification: expected Harbor's "type"\/"event_data", a CloudEvent with "specversion", or a registry envelope with "events"/,
    ],
    ['a Default event without event_data', { type: 'PUSH_ARTIFACT' }, /unrecognised notification/],
    [
      'a Default push without repository',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ digest: DIGEST, tag: 'v1' }] } },
      /event_data\.repository must have string "namespace" \(the project\) and "name"/,
    ],
    [
      'a Default push with a numeric repository name',
      {
        type: 'PUSH_ARTIFACT',
        event_data: { resources: [{ digest: DIGEST }], repository: { name: 7, namespace: 'proj' } },
      },
      /event_data\.repository must have/,
    ],
    [
      'a Default push without resources',
      { type: 'PUSH_ARTIFACT', event_data: { repository } },
      /event_data\.resources must list the pushed artifact/,
    ],
    [
      'a Default push with no resources',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [], repository } },
      /event_data\.resources must list the pushed artifact/,
    ],
    [
      'a Default push with a null resource',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [null], repository } },
      /every entry of event_data\.resources must be an object with "digest" and "tag"/,
    ],
    [
      'a Default push with a string resource',
      { type: 'PUSH_ARTIFACT', event_data: { resources: ['sha256:abc'], repository } },
      /every entry of event_data\.resources must be an object with "digest" and "tag"/,
    ],
    [
      'a bad digest',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ digest: 'sha256:nothex', tag: 'v1' }], repository } },
      /digest "sha256:nothex" is not a sha256 digest/,
    ],
    [
      'a missing digest',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ tag: 'v1' }], repository } },
      /digest undefined is not a sha256 digest/,
    ],
    [
      'a numeric tag',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ digest: DIGEST, tag: 1 }], repository } },
      /tag must be a string/,
    ],
    [
      'an invalid tag',
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ digest: DIGEST, tag: '-v1' }], repository } },
      /tag "-v1" is not a valid tag/,
    ],
    [
      'a path trick in the project',
      {
        type: 'PUSH_ARTIFACT',
        event_data: { resources: [{ digest: DIGEST, tag: 'v1' }], repository: { name: 'x', namespace: '../etc' } },
      },
      /project "\.\.\/etc" may hold only lowercase letters/,
    ],
    [
      'an uppercase project',
      {
        type: 'PUSH_ARTIFACT',
        event_data: { resources: [{ digest: DIGEST, tag: 'v1' }], repository: { name: 'x', namespace: 'Proj' } },
      },
      /project "Proj" may hold only/,
    ],
    [
      'a path trick in the repository',
      {
        type: 'PUSH_ARTIFACT',
        event_data: { resources: [{ digest: DIGEST, tag: 'v1' }], repository: { name: 'a/../b', namespace: 'proj' } },
      },
      /repository "a\/\.\.\/b" is not a valid repository name/,
    ],
    [
      'a CloudEvent push without data',
      { specversion: '1.0', type: 'harbor.artifact.pushed' },
      /CloudEvent harbor\.artifact\.pushed has no "data" object/,
    ],
    [
      'a CloudEvent push with a bad repository',
      {
        specversion: '1.0',
        type: 'harbor.artifact.pushed',
        data: { resources: [{ digest: DIGEST }], repository: { name: '../x', namespace: 'proj' } },
      },
      /repository "\.\.\/x" is not a valid repository name/,
    ],
  ])('%s', (_name, body, message) => {
    let caught: unknown;
    try {
      parseNotification(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotificationError);
    expect((caught as Error).message).toMatch(message);
  });

  test('one bad resource rejects the whole event: nothing half-accepted', () => {
    expect(() =>
      parseNotification({
        type: 'PUSH_ARTIFACT',
        event_data: {
          resources: [
            { digest: DIGEST, tag: 'v1' },
            { digest: 'nope', tag: 'v2' },
          ],
          repository,
        },
      }),
    ).toThrow(NotificationError);
  });
});

describe('deletions: the same shapes read into delete events', () => {
  const RC_DIGEST = 'sha256:f92b3f88c3024a7a36673b1fb46fec5dbec9e827842b0739c45dcdbb383d86d2';

  test('Harbor 2.x DELETE_ARTIFACT (Default): the digest and the one tag it names', () => {
    expect(parseNotification(fixture('harbor-delete-default.json'))).toEqual({
      pushes: [],
      deletes: [
        { project: 'platform', repository: 'backend/api', digest: RC_DIGEST, tag: '1.0.0-rc1', format: 'default' },
      ],
      ignored: [],
    });
  });

  test('Harbor 1.10 deleteImage: one delete per tag; a tag Harbor did not find (no digest) is listed as ignored', () => {
    const parsed = parseNotification(fixture('harbor-1.10-deleteImage.json'));
    expect(parsed.pushes).toEqual([]);
    expect(parsed.deletes.map((d) => [d.digest, d.tag])).toEqual([
      [API_DIGEST, 'latest'],
      [API_DIGEST, 'v1.4.2'],
    ]);
    expect(parsed.ignored).toEqual(['deleted tag v0.9 has no digest (Harbor did not find it)']);
  });

  test('a registry delete of a tag or a repository alone names no digest: ignored, with where it is caught', () => {
    const parsed = parseNotification({
      events: [
        { action: 'delete', target: { repository: 'proj/app', tag: 'v1' } },
        { action: 'delete', target: { repository: 'proj/app' } },
      ],
    });
    expect(parsed.deletes).toEqual([]);
    expect(parsed.ignored).toEqual([
      'registry delete of proj/app:v1 names no digest (the sweep with ReconcileDeletes=true catches it)',
      'registry delete of proj/app names no digest (the sweep with ReconcileDeletes=true catches it)',
    ]);
  });
});
