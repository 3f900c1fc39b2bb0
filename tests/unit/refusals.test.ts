// The one table from the use cases' refusals to HTTP answers: the statuses and codes the manual call and
// /api/v1/sync answered with before the checks stopped throwing HTTP errors themselves.
import { expect, test } from '@jest/globals';
import { refusalAnswer } from '../../src/http/errors.js';
import { Refusal, type RefusalReason } from '../../src/service/refusal.js';

const ANSWERS: Array<[RefusalReason, number, string]> = [
  ['invalid-request', 400, 'BAD_REQUEST'],
  ['header-credentials-disabled', 403, 'HEADER_CREDENTIALS_DISABLED'],
  ['header-credentials-need-one-instance', 409, 'HEADER_CREDENTIALS_NEED_ONE_INSTANCE'],
  ['harbor-credentials', 401, 'HARBOR_CREDENTIALS'],
  ['project-not-found', 404, 'PROJECT_NOT_FOUND'],
  ['harbor-unreachable', 502, 'HARBOR_UNREACHABLE'],
  ['not-harbor', 502, 'NOT_HARBOR'],
  ['harbor-error', 502, 'HARBOR_ERROR'],
  ['huawei-credentials', 401, 'HUAWEI_CREDENTIALS'],
  ['huawei-credentials-unchecked', 502, 'HUAWEI_CREDENTIALS'],
  ['swr-unreachable', 502, 'SWR_UNREACHABLE'],
  ['swr-error', 502, 'SWR_ERROR'],
  ['namespace-taken', 409, 'NAMESPACE_UNUSABLE'],
  ['namespace-forbidden', 403, 'NAMESPACE_UNUSABLE'],
  ['swr-api-credentials', 401, 'SWR_API'],
  ['swr-api-error', 502, 'SWR_API'],
];

test.each(ANSWERS)("%s is answered %i %s, with the refusal's sentence", (reason, status, code) => {
  const answer = refusalAnswer(new Refusal(reason, `why ${reason}`));
  expect({ status: answer.status, code: answer.code, message: answer.message }).toEqual({
    status,
    code,
    message: `why ${reason}`,
  });
});
