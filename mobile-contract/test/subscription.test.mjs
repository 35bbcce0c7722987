// The app's live updates through the graphql-ws library — the client a
// React Native app uses — against a started server: connect with a token,
// subscribe to a slot's changes, receive one, complete.
//
// Needs VORESISHOJ_URL and VOLUNTEER_TOKEN (see .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.env.VORESISHOJ_URL;
const token = process.env.VOLUNTEER_TOKEN;

async function gql(query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

test('slotChanged arrives over graphql-ws', { timeout: 20000 }, async () => {
  assert.ok(base && token, 'VORESISHOJ_URL and VOLUNTEER_TOKEN must be set');

  // An open slot without requirements that the volunteer has not claimed.
  const data = await gql(`{ openSlots(first: 50) { edges { node { id requirement myClaim { id } activity { id } } } } }`);
  const slot = data.openSlots.edges.map((e) => e.node).find((s) => !s.requirement && !s.myClaim);
  assert.ok(slot, 'the demo data has an open slot');

  const client = createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  try {
    const received = new Promise((resolve, reject) => {
      const unsubscribe = client.subscribe(
        {
          query: 'subscription($a: ID!) { slotChanged(activityId: $a) { id taken spotsLeft myClaim { status } } }',
          variables: { a: slot.activity.id },
        },
        {
          next: (msg) => {
            if (msg.errors) return reject(new Error(JSON.stringify(msg.errors)));
            if (msg.data.slotChanged.id === slot.id) {
              unsubscribe(); // complete: the server ends the operation
              resolve(msg.data.slotChanged);
            }
          },
          error: reject,
          complete: () => {},
        },
      );
    });
    // Subscriptions are live once the server has acknowledged; give it a moment.
    await new Promise((r) => setTimeout(r, 300));
    const claim = await gql(
      'mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { status } userErrors { code } } }',
      { i: { slotId: slot.id, idempotencyKey: `node-${Date.now()}` } },
    );
    assert.deepEqual(claim.claimSlot.userErrors, []);
    const changed = await received;
    assert.ok(changed.myClaim, 'the change carries my new claim');
    assert.equal(changed.myClaim.status, claim.claimSlot.claim.status);
  } finally {
    await client.dispose();
  }
});

test('a forged token is refused at connection_init', { timeout: 10000 }, async () => {
  const client = createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: 'Bearer forged' },
    retryAttempts: 0,
  });
  const closed = await new Promise((resolve) => {
    client.on('closed', (event) => resolve(event));
    client.subscribe({ query: 'subscription { storyPublished { id } }' }, { next() {}, error() {}, complete() {} });
  });
  assert.equal(closed.code, 4403);
  await client.dispose();
});
