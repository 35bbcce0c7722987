// What an app's error handling and transports see, through the real
// clients: a refused sign-in token reaches Apollo Client's error link and
// urql as a GraphQL error coded UNAUTHENTICATED (the GraphQL over HTTP
// spec; internal/auth), whatever media type the client accepts; urql's
// subscriptions over server-sent events work, while its queries are
// answered JSON (graph/sse.go).
//
// Needs VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN, and DEV_NOW
// when the server runs at another date (see .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client/core';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { ErrorLink } from '@apollo/client/link/error';
import { Client, fetchExchange, gql } from '@urql/core';
import { loadOperations } from '../scripts/operations.mjs';
import { gql as post, organiserSlot } from '../scripts/organiser-slot.mjs';

const base = process.env.VORESISHOJ_URL;
const volunteerToken = process.env.VOLUNTEER_TOKEN;
const organiserToken = process.env.ORGANISER_TOKEN;
const { ops } = loadOperations();
// A token signed with another key: what an app holds after its session
// ended on a server that made a new key.
const forged = volunteerToken.replace(/.{4}$/, 'AAAA');

function apollo(headers, seen) {
  return new ApolloClient({
    link: ApolloLink.from([
      new ErrorLink(({ error }) => void seen.push(error)),
      new HttpLink({ uri: `${base}/graphql`, headers }),
    ]),
    cache: new InMemoryCache(),
  });
}

// quietOnAbort ends a streamed body when urql aborts it on unsubscribe;
// Node's fetch would otherwise report the reader's AbortError as an
// unhandled rejection inside urql.
function quietOnAbort(res) {
  if (!res.body) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        if (e.name === 'AbortError') controller.close();
        else controller.error(e);
      }
    },
    cancel: (reason) => reader.cancel(reason).catch(() => {}),
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

const codes = (error) => error.errors.map((e) => e.extensions?.code);

test('Apollo Client: a refused token is UNAUTHENTICATED in the error link', { timeout: 10000 }, async () => {
  assert.ok(base && volunteerToken, 'VORESISHOJ_URL and VOLUNTEER_TOKEN must be set');
  for (const accept of [undefined, 'application/json', '*/*']) {
    const seen = [];
    const client = apollo({ authorization: `Bearer ${forged}`, ...(accept && { accept }) }, seen);
    // Apollo rejects a query that has errors (errorPolicy "none").
    const error = await client.query({ query: ops.get('Me').document }).then(() => null, (e) => e);
    assert.ok(CombinedGraphQLErrors.is(error), `Accept ${accept ?? "(Apollo's)"}: ${error?.name} ${error?.message}`);
    assert.deepEqual(codes(error), ['UNAUTHENTICATED']);
    assert.equal(seen.length, 1, 'the error link ran once');
    assert.ok(CombinedGraphQLErrors.is(seen[0]) && codes(seen[0])[0] === 'UNAUTHENTICATED', 'the error link sees the code');
    client.stop();
  }
});

test('urql: a refused token is UNAUTHENTICATED, over fetch and over server-sent events', { timeout: 10000 }, async () => {
  assert.ok(base && volunteerToken, 'VORESISHOJ_URL and VOLUNTEER_TOKEN must be set');
  const client = new Client({
    url: `${base}/graphql`,
    exchanges: [fetchExchange],
    fetchSubscriptions: true,
    fetchOptions: { headers: { authorization: `Bearer ${forged}` } },
  });
  const q = await client.query(ops.get('Me').document, {}).toPromise();
  assert.deepEqual(q.error?.graphQLErrors.map((e) => e.extensions.code), ['UNAUTHENTICATED'], q.error?.message);

  // The server ends this stream itself (one event, then complete).
  const sub = await new Promise((resolve) => {
    client.subscription(gql`subscription { storyPublished { id } }`, {}).subscribe(resolve);
  });
  assert.deepEqual(sub.error?.graphQLErrors.map((e) => e.extensions.code), ['UNAUTHENTICATED'], sub.error?.message);
});

test('urql: a subscription over server-sent events delivers a slot change', { timeout: 20000 }, async () => {
  assert.ok(base && volunteerToken && organiserToken, 'VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN must be set');
  const slot = await organiserSlot({ base, organiserToken, volunteerToken, fromDay: 145, spanDays: 5, title: 'Opstilling af stole' });
  const types = [];
  const client = new Client({
    url: `${base}/graphql`,
    exchanges: [fetchExchange],
    fetchSubscriptions: true,
    fetch: async (...args) => {
      const res = await fetch(...args);
      types.push(res.headers.get('content-type'));
      return quietOnAbort(res);
    },
    fetchOptions: { headers: { authorization: `Bearer ${volunteerToken}` } },
  });
  let claimId;
  try {
    const changed = new Promise((resolve, reject) => {
      const { unsubscribe } = client.subscription(ops.get('SlotChanged').document, { activityId: slot.activityId }).subscribe((r) => {
        if (r.error) return reject(r.error);
        if (r.data?.slotChanged.id === slot.slotId) {
          unsubscribe();
          resolve(r.data.slotChanged);
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300));
    const claimed = await client.mutation(ops.get('ClaimSlot').document, {
      input: { slotId: slot.slotId, idempotencyKey: `urql-sse-${Date.now()}` },
    }).toPromise();
    assert.equal(claimed.error, undefined, claimed.error?.message);
    claimId = claimed.data.claimSlot.claim.id;
    const got = await changed;
    assert.equal(got.taken, 1);
    assert.equal(got.myClaim?.id, claimId);
    assert.ok(types.includes('text/event-stream'), `the subscription streamed: ${types}`);
    assert.ok(types.some((t) => /json/.test(t)), `the mutation answered JSON: ${types}`);
  } finally {
    if (claimId) {
      await post(base, volunteerToken, 'mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { userErrors { code } } }', { i: { claimId } });
    }
  }
});
