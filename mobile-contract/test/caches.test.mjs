// The app's operations through the normalised caches app teams use, with
// their default settings: Apollo Client's InMemoryCache (with
// relayStylePagination for the activity list, as Apollo's docs set up a
// Relay connection) and urql's graphcache (relayPagination from its extras
// for the list). For each:
//
//   - the list pages merge into one list;
//   - the detail screen (ActivityDetail), once loaded, is still served
//     whole from the cache after the list, the open slots and the shifts
//     screens have written the same activity, place and organisation;
//   - a claim (and giving it back) updates the cached slot: spotsLeft,
//     taken and the caller's claim, with no refetch;
//   - every answer over HTTP is JSON, whatever the client's Accept lists.
//
// The slot is the organiser's own in a quiet hour (scripts/quiet-slot.mjs),
// each client its own range of days.
//
// Needs VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN, and DEV_NOW
// when the server runs at another date (see .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client/core';
import { relayStylePagination } from '@apollo/client/utilities';
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { loadOperations } from '../scripts/operations.mjs';
import { organiserSlot as mineSlot } from '../scripts/organiser-slot.mjs';

const base = process.env.VORESISHOJ_URL;
const volunteerToken = process.env.VOLUNTEER_TOKEN;
const organiserToken = process.env.ORGANISER_TOKEN;
const { ops } = loadOperations();
const op = (name) => {
  const o = ops.get(name);
  assert.ok(o, `operations/ has ${name}`);
  return o.document;
};

// fetch that notes the content type of every answer.
function recordingFetch(types) {
  return async (...args) => {
    const res = await fetch(...args);
    types.push(res.headers.get('content-type'));
    return res;
  };
}

const organiserSlot = (fromDay) =>
  mineSlot({ base, organiserToken, volunteerToken, fromDay, spanDays: 25, title: 'Kaffevagt' });

const slotIn = (detail, id) => detail.activity.slotsConnection.edges.map((e) => e.node).find((s) => s.id === id);

function requireSetup() {
  assert.ok(base && volunteerToken && organiserToken, 'VORESISHOJ_URL, VOLUNTEER_TOKEN and ORGANISER_TOKEN must be set');
}

test('Apollo Client InMemoryCache', { timeout: 20000 }, async () => {
  requireSetup();
  const mine = await organiserSlot(95);
  const types = [];
  const client = new ApolloClient({
    link: new HttpLink({ uri: `${base}/graphql`, headers: { authorization: `Bearer ${volunteerToken}` }, fetch: recordingFetch(types) }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { activities: relayStylePagination(['filter']) } } } }),
  });
  const query = async (name, variables, fetchPolicy) => {
    const { data, error } = await client.query({ query: op(name), variables, fetchPolicy });
    assert.equal(error, undefined, `${name}: ${error?.message}`);
    return data;
  };
  const mutate = async (name, input) => {
    const { data, error } = await client.mutate({ mutation: op(name), variables: { input } });
    assert.equal(error, undefined, `${name}: ${error?.message}`);
    const payload = Object.values(data)[0];
    assert.deepEqual(payload.userErrors, []);
    return payload;
  };
  const cachedDetail = () => client.readQuery({ query: op('ActivityDetail'), variables: { id: mine.activityId } });

  // The list: two pages merge into one (relayStylePagination reads the
  // whole list back, whichever page was asked for).
  const ids = (d) => d.activities.edges.map((e) => e.node.id);
  const page1 = await query('ActivityList', { first: 3 });
  assert.ok(page1.activities.pageInfo.hasNextPage, 'the demo data has more than one page');
  const page1ids = ids(page1);
  await query('ActivityList', { first: 3, after: page1.activities.pageInfo.endCursor }, 'network-only');
  const merged = ids(client.readQuery({ query: op('ActivityList'), variables: { first: 3 } }));
  assert.equal(merged.length, page1ids.length + 3, 'the pages merged');
  assert.deepEqual(merged.slice(0, page1ids.length), page1ids, 'the first page first');
  assert.equal(new Set(merged).size, merged.length, 'no activity twice');

  // The detail screen, then the other screens that show the same objects.
  const detail = await query('ActivityDetail', { id: mine.activityId });
  assert.ok(detail.activity.place?.id, 'the activity has a place');
  const open = await query('OpenSlots', { first: 20, from: mine.hour.startsAt, to: mine.hour.endsAt });
  assert.ok(open.openSlots.edges.some((e) => e.node.id === mine.slotId), 'the slot is open');
  await query('MyShifts', { upcoming: true });
  await query('MyOrganisations');
  assert.deepEqual(cachedDetail(), detail, 'ActivityDetail is served whole from the cache after OpenSlots and MyShifts');

  // A claim updates the cached slot; giving it back too.
  const before = slotIn(detail, mine.slotId);
  assert.equal(before.myClaim, null);
  const claimed = await mutate('ClaimSlot', { slotId: mine.slotId, idempotencyKey: `apollo-${Date.now()}` });
  let slot = slotIn(cachedDetail(), mine.slotId);
  assert.equal(slot.spotsLeft, before.spotsLeft - 1, 'spotsLeft in the cache after the claim');
  assert.equal(slot.taken, before.taken + 1);
  assert.equal(slot.myClaim?.id, claimed.claim.id, 'myClaim in the cache after the claim');
  assert.equal(slot.myClaim.status, 'CONFIRMED');
  const shifts = await query('MyShifts', { upcoming: true, first: 100 }, 'network-only');
  assert.ok(shifts.me.claimsConnection.edges.some((e) => e.node.id === claimed.claim.id), 'the shift is listed');
  await mutate('CancelClaim', { claimId: claimed.claim.id });
  slot = slotIn(cachedDetail(), mine.slotId);
  assert.equal(slot.spotsLeft, before.spotsLeft, 'spotsLeft in the cache after giving it back');
  assert.notEqual(slot.myClaim?.status, 'CONFIRMED');

  assert.ok(types.length >= 8);
  assert.deepEqual(types.filter((t) => !/json/.test(t ?? '')), [], 'every answer is JSON');
  client.stop();
});

test('urql graphcache', { timeout: 20000 }, async (t) => {
  requireSetup();
  // graphcache warns (outside production) of each object type it stores
  // inside its parent for want of an id: value types such as Occurrence,
  // ChannelLink and UserError. Listed once, not failed; an object type
  // with an id selected without it fails the operations lint instead.
  const embedded = new Set();
  const warn = console.warn;
  console.warn = (msg, ...rest) => {
    const m = /create a custom `keys` config for `(\w+)`/.exec(String(msg));
    if (m) embedded.add(m[1]);
    else warn(msg, ...rest);
  };
  t.after(() => {
    console.warn = warn;
    t.diagnostic(`graphcache embeds (no id): ${[...embedded].sort().join(', ')}`);
  });
  const mine = await organiserSlot(120);
  const types = [];
  const urql = (cache) => new Client({
    url: `${base}/graphql`,
    exchanges: [cache, fetchExchange],
    fetch: recordingFetch(types),
    fetchOptions: { headers: { authorization: `Bearer ${volunteerToken}` } },
  });
  const client = urql(cacheExchange());
  const query = async (name, variables, requestPolicy, c = client) => {
    const { data, error } = await c.query(op(name), variables, { requestPolicy }).toPromise();
    assert.equal(error, undefined, `${name}: ${error?.message}`);
    return data;
  };
  const mutate = async (name, input) => {
    const { data, error } = await client.mutation(op(name), { input }).toPromise();
    assert.equal(error, undefined, `${name}: ${error?.message}`);
    const payload = Object.values(data)[0];
    assert.deepEqual(payload.userErrors, []);
    return payload;
  };
  const cachedDetail = () => query('ActivityDetail', { id: mine.activityId }, 'cache-only');

  // The list: with graphcache's relayPagination the second page's answer
  // holds both pages.
  const paged = urql(cacheExchange({ resolvers: { Query: { activities: relayPagination() } } }));
  const page1 = await query('ActivityList', { first: 3 }, undefined, paged);
  assert.ok(page1.activities.pageInfo.hasNextPage, 'the demo data has more than one page');
  const page1ids = page1.activities.edges.map((e) => e.node.id);
  const page2 = await query('ActivityList', { first: 3, after: page1.activities.pageInfo.endCursor }, undefined, paged);
  const ids = page2.activities.edges.map((e) => e.node.id);
  assert.equal(ids.length, page1ids.length + 3, 'the pages merged');
  assert.deepEqual(ids.slice(0, page1ids.length), page1ids);
  assert.equal(new Set(ids).size, ids.length, 'no activity twice');

  // The detail screen, then the other screens that show the same objects.
  await query('ActivityList', { first: 5 });
  const detail = await query('ActivityDetail', { id: mine.activityId });
  assert.ok(detail.activity.place?.id, 'the activity has a place');
  const open = await query('OpenSlots', { first: 20, from: mine.hour.startsAt, to: mine.hour.endsAt });
  assert.ok(open.openSlots.edges.some((e) => e.node.id === mine.slotId), 'the slot is open');
  await query('MyShifts', { upcoming: true });
  await query('MyOrganisations');
  assert.deepEqual(await cachedDetail(), detail, 'ActivityDetail is served whole from the cache after OpenSlots and MyShifts');

  // A claim updates the cached slot; giving it back too.
  const before = slotIn(detail, mine.slotId);
  assert.equal(before.myClaim, null);
  const claimed = await mutate('ClaimSlot', { slotId: mine.slotId, idempotencyKey: `urql-${Date.now()}` });
  let slot = slotIn(await cachedDetail(), mine.slotId);
  assert.equal(slot.spotsLeft, before.spotsLeft - 1, 'spotsLeft in the cache after the claim');
  assert.equal(slot.taken, before.taken + 1);
  assert.equal(slot.myClaim?.id, claimed.claim.id, 'myClaim in the cache after the claim');
  assert.equal(slot.myClaim.status, 'CONFIRMED');
  await mutate('CancelClaim', { claimId: claimed.claim.id });
  slot = slotIn(await cachedDetail(), mine.slotId);
  assert.equal(slot.spotsLeft, before.spotsLeft, 'spotsLeft in the cache after giving it back');
  assert.notEqual(slot.myClaim?.status, 'CONFIRMED');

  assert.ok(types.length >= 8);
  assert.deepEqual(types.filter((t) => !/json/.test(t ?? '')), [], 'every answer is JSON, although urql accepts text/event-stream');
});
