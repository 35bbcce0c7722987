// The app's live updates through the graphql-ws library — the client a
// React Native app uses — against a started server: connect with a token,
// subscribe to a slot's changes, receive one, complete.
//
// The slot is the organiser's own (scripts/quiet-slot.mjs): a demo slot may
// overlap one of the volunteer's demo shifts on some days.
//
// Needs VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN, and DEV_NOW
// when the server runs at another date (see .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { overlapping, quietHour } from '../scripts/quiet-slot.mjs';

const base = process.env.VORESISHOJ_URL;
const token = process.env.VOLUNTEER_TOKEN;
const organiserToken = process.env.ORGANISER_TOKEN;

async function gql(query, variables, as = token) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` },
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

// The organiser publishes an activity with one slot in a quiet hour.
async function organiserSlot() {
  const { me } = await gql('{ me { organises { id name } } }', {}, organiserToken);
  const org = me.organises.find((o) => o.name === 'Thorslunde-Ishøj Lokalhistoriske Forening') ?? me.organises[0];
  assert.ok(org, 'the organiser organises an organisation');
  const hour = quietHour(150, 100);
  const created = await gql(
    'mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id status } userErrors { code field } } }',
    { i: { organisationId: org.id, title: `Morgenvagt (kontrakttest ${Date.now()})`, ...hour, publish: true } },
    organiserToken,
  );
  assert.deepEqual(created.createActivity.userErrors, []);
  assert.equal(created.createActivity.activity.status, 'PUBLISHED');
  const activityId = created.createActivity.activity.id;
  const added = await gql(
    'mutation($i: AddVolunteerSlotInput!) { addVolunteerSlot(input: $i) { slot { id } userErrors { code field } } }',
    { i: { activityId, title: 'Lås op og sæt kaffe over', ...hour, capacity: 2 } },
    organiserToken,
  );
  assert.deepEqual(added.addVolunteerSlot.userErrors, []);
  return { id: added.addVolunteerSlot.slot.id, activityId, hour };
}

test('slotChanged arrives over graphql-ws', { timeout: 20000 }, async () => {
  assert.ok(base && token && organiserToken, 'VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN must be set');

  const slot = await organiserSlot();
  const { me } = await gql('{ me { claims { status slot { startsAt endsAt } } } }');
  assert.deepEqual(overlapping(me.claims, slot.hour), [], `the volunteer has nothing at ${slot.hour.startsAt}`);

  const client = createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  let claimId;
  try {
    const received = new Promise((resolve, reject) => {
      const unsubscribe = client.subscribe(
        {
          query: 'subscription($a: ID!) { slotChanged(activityId: $a) { id taken spotsLeft myClaim { status } } }',
          variables: { a: slot.activityId },
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
      'mutation($i: ClaimSlotInput!) { claimSlot(input: $i) { claim { id status } userErrors { code } } }',
      { i: { slotId: slot.id, idempotencyKey: `node-${Date.now()}` } },
    );
    assert.deepEqual(claim.claimSlot.userErrors, []);
    claimId = claim.claimSlot.claim.id;
    assert.equal(claim.claimSlot.claim.status, 'CONFIRMED');
    const changed = await received;
    assert.equal(changed.taken, 1);
    assert.equal(changed.spotsLeft, 1);
    assert.ok(changed.myClaim, 'the change carries my new claim');
    assert.equal(changed.myClaim.status, claim.claimSlot.claim.status);
  } finally {
    await client.dispose();
    // Give the shift back, so a later run against this server starts clean.
    if (claimId) await gql('mutation($i: CancelClaimInput!) { cancelClaim(input: $i) { userErrors { code } } }', { i: { claimId } });
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
