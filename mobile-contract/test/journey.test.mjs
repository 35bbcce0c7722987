// A real client journey with the libraries a React Native app uses: Apollo
// Client (@apollo/client/core, no React) over HTTP and graphql-ws for
// subscriptions, sending only the documents the app ships
// (operations/*.graphql). With mobile-contract/trusted-documents.json the
// documents go by hash in Apollo's persisted-query form, as a production
// server with TRUSTED_DOCUMENTS=true requires.
//
// A resident browses activities and follows an organisation; the organiser
// publishes an activity with a volunteer slot, which the resident finds
// among the open slots, claims (a retry with the same idempotencyKey
// returns the same claim) and cancels; the organiser announces to the
// organisation's followers and the resident's NotificationReceived
// subscription delivers it.
//
// The slot is the organiser's own, in a quiet hour months ahead
// (scripts/quiet-slot.mjs): any demo slot may overlap one of the demo
// volunteer's shifts on some day.
//
// Needs VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN, and DEV_NOW
// when the server runs at another date (see .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client/core';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { Observable } from 'rxjs';
import WebSocket from 'ws';
import { loadOperations } from '../scripts/operations.mjs';
import { overlapping, quietHour } from '../scripts/quiet-slot.mjs';

const base = process.env.VORESISHOJ_URL;
const { ops, manifest } = loadOperations();

function op(name) {
  const o = ops.get(name);
  assert.ok(o, `operations/ has ${name}`);
  if (manifest) assert.ok(o.hash, `trusted-documents.json has ${name}`);
  return o.document;
}

const nameOf = (doc) => getMainDefinition(doc).name.value;

// trustedWsLink sends a subscription over graphql-ws the way the HTTP side
// does: the manifest's text with its hash, so the server can check one
// against the other.
class TrustedWsLink extends ApolloLink {
  constructor(client) {
    super();
    this.client = client;
  }
  request(operation) {
    const o = ops.get(operation.operationName);
    return new Observable((observer) =>
      this.client.subscribe(
        {
          operationName: operation.operationName,
          query: o.text,
          variables: operation.variables,
          extensions: { persistedQuery: { version: 1, sha256Hash: o.hash } },
        },
        observer,
      ),
    );
  }
}

function app(t, token) {
  const ws = createClient({
    url: base.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  let http = new HttpLink({
    uri: `${base}/graphql`,
    headers: { authorization: `Bearer ${token}` },
    // When the server asks for the text (automatic persisted queries in
    // development), send the manifest's, whose hash the server checks.
    print: (ast, print) => (manifest ? ops.get(nameOf(ast)).text : print(ast)),
  });
  let wsLink = new GraphQLWsLink(ws);
  if (manifest) {
    http = new PersistedQueryLink({ generateHash: (doc) => ops.get(nameOf(doc)).hash }).concat(http);
    wsLink = new TrustedWsLink(ws);
  }
  const client = new ApolloClient({
    link: ApolloLink.split(
      ({ query }) => getMainDefinition(query).operation === 'subscription',
      wsLink,
      http,
    ),
    // The manifest's documents carry __typename as Apollo adds it, so
    // answers go through the normalised cache as in the app.
    cache: new InMemoryCache(),
  });
  t.after(async () => {
    client.stop();
    await ws.dispose();
  });
  return client;
}

async function query(client, name, variables) {
  const { data, error } = await client.query({ query: op(name), variables });
  assert.equal(error, undefined, `${name}: ${error?.message}`);
  return data;
}

async function mutate(client, name, input) {
  const { data, error } = await client.mutate({ mutation: op(name), variables: { input } });
  assert.equal(error, undefined, `${name}: ${error?.message}`);
  return Object.values(data)[0];
}

test('a resident, a volunteer and an organiser use the app', { timeout: 15000 }, async (t) => {
  assert.ok(base && process.env.VOLUNTEER_TOKEN && process.env.ORGANISER_TOKEN,
    'VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN must be set');
  t.diagnostic(manifest ? 'documents sent by hash (trusted-documents.json)' : 'full documents sent (no trusted-documents.json)');
  const resident = app(t, process.env.VOLUNTEER_TOKEN);
  const organiser = app(t, process.env.ORGANISER_TOKEN);

  // Browse: the activity list, paged as the app pages it.
  const page1 = await query(resident, 'ActivityList', { first: 5 });
  assert.ok(page1.activities.edges.length > 0, 'the demo data has activities');
  for (const { node } of page1.activities.edges) {
    assert.ok(node.id && node.title && node.organisation.name);
  }
  if (page1.activities.pageInfo.hasNextPage) {
    const page2 = await query(resident, 'ActivityList', { first: 5, after: page1.activities.pageInfo.endCursor });
    const seen = new Set(page1.activities.edges.map((e) => e.node.id));
    assert.ok(page2.activities.edges.every((e) => !seen.has(e.node.id)), 'the next page holds new activities');
  }

  t.diagnostic('browsed');
  // Follow an organisation the organiser runs.
  const mine = await query(organiser, 'MyOrganisations');
  const org = mine.me.organises.find((o) => o.name === 'Thorslunde-Ishøj Lokalhistoriske Forening') ?? mine.me.organises[0];
  assert.ok(org, 'the organiser organises an organisation');
  const followed = await mutate(resident, 'Follow', { organisationId: org.id });
  assert.deepEqual(followed.userErrors, []);
  assert.ok(followed.follows.some((f) => f.organisation?.id === org.id), 'the follow is listed');

  t.diagnostic('followed');
  // The organiser publishes an activity with one slot.
  const hour = quietHour(250, 100);
  const made = await mutate(organiser, 'CreateActivity', {
    organisationId: org.id,
    title: `Morgenrundvisning (kontrakttest ${Date.now()})`,
    ...hour,
    publish: true,
  });
  assert.deepEqual(made.userErrors, []);
  assert.equal(made.activity.status, 'PUBLISHED');
  const added = await mutate(organiser, 'AddVolunteerSlot', {
    activityId: made.activity.id,
    title: 'Guide ved porten',
    ...hour,
    capacity: 2,
  });
  assert.deepEqual(added.userErrors, []);

  t.diagnostic('published');
  // The resident finds it among the open slots of that morning, has
  // nothing else then, claims it, retries the tap and gives it back.
  const open = await query(resident, 'OpenSlots', { first: 20, from: hour.startsAt, to: hour.endsAt });
  const slot = open.openSlots.edges.map((e) => e.node).find((s) => s.id === added.slot.id);
  assert.ok(slot, 'the new slot is among the open slots');
  assert.equal(slot.spotsLeft, 2);
  const shifts = await query(resident, 'MyShifts', { upcoming: true, first: 100 });
  const claims = shifts.me.claimsConnection.edges.map((e) => e.node);
  assert.equal(shifts.me.claimsConnection.pageInfo.hasNextPage, false, 'every upcoming shift on one page');
  assert.deepEqual(overlapping(claims, hour), [], `the resident has nothing at ${hour.startsAt}`);
  const input = { slotId: slot.id, idempotencyKey: `journey-${slot.id}-${Date.now()}` };
  const first = await mutate(resident, 'ClaimSlot', input);
  assert.deepEqual(first.userErrors, []);
  const retry = await mutate(resident, 'ClaimSlot', input);
  assert.deepEqual(retry.userErrors, []);
  assert.equal(retry.claim.id, first.claim.id, 'a retry with the same idempotencyKey returns the same claim');
  assert.equal(retry.claim.status, first.claim.status);
  const claimed = first.claim;
  assert.equal(claimed.status, 'CONFIRMED');
  const cancelled = await mutate(resident, 'CancelClaim', { claimId: claimed.id });
  assert.deepEqual(cancelled.userErrors, []);
  assert.equal(cancelled.claim.id, claimed.id);
  assert.equal(cancelled.claim.status, 'CANCELLED');

  t.diagnostic('claimed and cancelled');
  // The organiser announces; the resident's open app receives it live.
  const title = `Husk generalforsamlingen ${Date.now()}`;
  const received = new Promise((resolve, reject) => {
    const sub = resident.subscribe({ query: op('NotificationReceived') }).subscribe({
      next: ({ data, error }) => {
        if (error) return reject(error);
        if (data?.notificationReceived.title === title) {
          sub.unsubscribe();
          resolve(data.notificationReceived);
        }
      },
      error: reject,
    });
    t.after(() => sub.unsubscribe());
  });
  // The subscription is live once the server has acknowledged it.
  await new Promise((r) => setTimeout(r, 300));
  const sent = await mutate(organiser, 'SendAnnouncement', {
    audience: 'FOLLOWERS',
    organisationId: org.id,
    title,
    body: 'Torsdag kl. 19 i Thorslunde Forsamlingshus.',
  });
  assert.deepEqual(sent.userErrors, []);
  assert.ok(sent.announcement.recipients >= 1, 'the follower is a recipient');
  t.diagnostic('announced');
  const note = await received;
  assert.equal(note.title, title);
  assert.equal(note.body, 'Torsdag kl. 19 i Thorslunde Forsamlingshus.');
  assert.equal(note.readAt, null);
});
