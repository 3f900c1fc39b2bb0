// Names in SWR's management listings are a peer's words: a repository, tag or digest that breaks the grammar is
// left out of the comparison (as registry listings' are), never put into a path or a log line as it came.
// SWR's API is answered by nock.
import { afterEach, expect, test } from '@jest/globals';
import nock from 'nock';
import { SwrListing } from '../../src/swr/listing.js';
import { SwrManagementClient } from '../../src/swr/management.js';

const API = 'https://swr-api.cn-north-4.myhuaweicloud.com';
const DIGEST = `sha256:${'a'.repeat(64)}`;

afterEach(() => {
  nock.cleanAll();
});

const listing = () =>
  new SwrListing(
    new SwrManagementClient(API, { kind: 'aksk', ak: 'AKEXAMPLE0000000001', sk: 'sk-example' }, 'cn-north-4'),
    () => undefined,
  );

test('repositories and tag names that break the grammar are left out of a namespace listing', async () => {
  nock(API)
    .get('/v2/manage/repos')
    .query(true)
    .reply(200, [
      { name: 'app', tags: ['v1', '../../evil', 'v2\r\nforged', 7] },
      { name: '../escape', tags: ['v1'] },
      { name: 'UPPER', tags: ['v1'] },
      { name: 'team/tool', tags: ['latest'] },
    ]);
  const repos = await listing().repositories('ns');
  expect([...repos!.entries()]).toEqual([
    ['app', ['v1']],
    ['team/tool', ['latest']],
  ]);
});

test('a tag listing keeps only valid tags with digests', async () => {
  nock(API)
    .get('/v2/manage/namespaces/ns/repos/app/tags')
    .query(true)
    .reply(200, [
      { Tag: 'v1', digest: DIGEST },
      { Tag: 'v2', digest: 'not-a-digest' },
      { Tag: '../x', digest: DIGEST },
      { tag: 'v3', digest: DIGEST },
    ]);
  const tags = await listing().tags('ns', 'app');
  expect([...tags!.entries()]).toEqual([
    ['v1', DIGEST],
    ['v3', DIGEST],
  ]);
});
