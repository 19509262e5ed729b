import { describe, expect, it } from 'vitest';
import { CampaignSchema } from '../../api/routes/campaigns/schemas.ts';
import { ApiError, ConnectionError, createApiClient } from '../../cli/api-client.ts';
import { fetchFailedPage } from '../../cli/campaign-failed.ts';
import { fetchCampaign } from '../../cli/campaign-status.ts';
import { delegationStates } from '../../core/delegation-machine.ts';

const baseUrl = 'http://mandate.test:3000';
const id = 'cmp_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e';

const campaign = {
  id,
  name: 'Managed IT',
  offerId: 'ofr_0193a0c4a7f47c2a9d1e5b3f6a8c9d0e',
  total: 2,
  rejectedCount: 0,
  counts: { ...Object.fromEntries(delegationStates.map((s) => [s, 0])), offered: 2 },
  done: true,
  createdAt: '2025-01-01T00:00:00.000Z',
};

/** A client whose every request gets `answer`, and the requests it made. */
function clientAnswering(answer: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const client = createApiClient(
    { baseUrl, token: 'mdt_secret' },
    {
      fetch: async (input, init) => {
        const request = new Request(input, init);
        requests.push(request);
        return answer(request);
      },
    },
  );
  return { client, requests };
}

const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });

describe('the CLI client of the partner API', () => {
  it('calls the documented path with the token, the id in the path and the query', async () => {
    const { client, requests } = clientAnswering((request) =>
      request.url.includes('/recipients') ? json({ items: [], nextCursor: null }) : json(campaign),
    );
    expect(await fetchCampaign(client, 'cmp_a/b?c')).toEqual(campaign);
    expect(await fetchFailedPage(client, id, { limit: 10, cursor: undefined })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${baseUrl}/v1/campaigns/cmp_a%2Fb%3Fc`,
      `GET ${baseUrl}/v1/campaigns/${id}/recipients?state=failed&limit=10`,
    ]);
    expect(requests[0]?.headers.get('authorization')).toBe('Bearer mdt_secret');
  });

  it("turns a problem into an error with the problem's code, detail and field issues", async () => {
    const { client } = clientAnswering(() =>
      json(
        {
          type: '/problems/validation-failed',
          title: 'Validation failed',
          status: 422,
          code: 'VALIDATION_FAILED',
          detail: 'The request is not valid',
          errors: [{ path: 'limit', message: 'too big' }],
        },
        422,
        'application/problem+json',
      ),
    );
    const error = await fetchCampaign(client, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 422,
      code: 'VALIDATION_FAILED',
      detail: 'The request is not valid',
      issues: [{ path: 'limit', message: 'too big' }],
      transient: false,
    });
  });

  it("quotes a proxy's error page, and counts a 502 as worth asking again", async () => {
    const { client } = clientAnswering(
      () =>
        new Response('<html><body>Bad gateway</body></html>', {
          status: 502,
          statusText: 'Bad Gateway',
          headers: { 'content-type': 'text/html' },
        }),
    );
    const error = await fetchCampaign(client, id).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: undefined, transient: true });
    expect((error as ApiError).detail).toBe('Bad Gateway — <html><body>Bad gateway</body></html>');
  });

  it('says so when the address answers something that is not Mandate', async () => {
    const { client } = clientAnswering(
      () => new Response('<html>Welcome</html>', { headers: { 'content-type': 'text/html' } }),
    );
    await expect(fetchCampaign(client, id)).rejects.toThrow(
      `GET /v1/campaigns/${id} did not answer JSON; is ${baseUrl} Mandate?`,
    );
  });

  it("checks the answer against the server's own schema", async () => {
    const { client } = clientAnswering(() => json({ ...campaign, counts: undefined }));
    const error = await fetchCampaign(client, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toMatch(/answered something unexpected .*same version as the server/);
  });

  it('tells a connection that failed from an answer', async () => {
    const { client } = clientAnswering(() => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    });
    const error = await fetchCampaign(client, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toBe(`Could not reach ${baseUrl}: ECONNREFUSED`);
  });

  it('gives up on a server that does not answer in time', async () => {
    const { client } = clientAnswering(
      (request) =>
        new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason))),
    );
    const error = await client
      .call((api, signal) => api.GET('/v1/campaigns/{id}', { params: { path: { id } }, signal }), CampaignSchema, {
        timeoutMs: 50,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toBe(`${baseUrl} did not answer within 0.05 s`);
  });
});
