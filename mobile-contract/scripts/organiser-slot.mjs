// A slot of the organiser's own for checks that claim one: the demo
// organiser publishes an activity at a demo place with one slot for two in
// a quiet hour (quiet-slot.mjs), and the demo volunteer is checked to have
// nothing then.
import assert from 'node:assert/strict';
import { overlapping, quietHour } from './quiet-slot.mjs';

// gql posts one operation and fails on GraphQL errors.
export async function gql(base, token, query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

// organiserSlot returns { activityId, slotId, hour } for a slot in a quiet
// hour between fromDay and fromDay + spanDays ahead.
export async function organiserSlot({ base, organiserToken, volunteerToken, fromDay, spanDays, title }) {
  const { me, places } = await gql(base, organiserToken, '{ me { organises { id name } } places(first: 1) { edges { node { id } } } }');
  const org = me.organises.find((o) => o.name === 'Thorslunde-Ishøj Lokalhistoriske Forening') ?? me.organises[0];
  assert.ok(org, 'the organiser organises an organisation');
  const hour = quietHour(fromDay, spanDays);
  const created = await gql(base, organiserToken,
    'mutation($i: CreateActivityInput!) { createActivity(input: $i) { activity { id } userErrors { code message } } }',
    { i: { organisationId: org.id, placeId: places.edges[0].node.id, title: `${title} (kontrakttest ${Date.now()})`, ...hour, publish: true } });
  assert.deepEqual(created.createActivity.userErrors, []);
  const activityId = created.createActivity.activity.id;
  const added = await gql(base, organiserToken,
    'mutation($i: AddVolunteerSlotInput!) { addVolunteerSlot(input: $i) { slot { id } userErrors { code message } } }',
    { i: { activityId, title: 'Kaffe og kage', ...hour, capacity: 2 } });
  assert.deepEqual(added.addVolunteerSlot.userErrors, []);
  const { me: vol } = await gql(base, volunteerToken, '{ me { claims(upcoming: true) { status slot { startsAt endsAt } } } }');
  assert.deepEqual(overlapping(vol.claims.filter((c) => c.status !== 'CANCELLED'), hour), [], `the volunteer has nothing at ${hour.startsAt}`);
  return { activityId, slotId: added.addVolunteerSlot.slot.id, hour };
}
