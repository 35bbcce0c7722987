// The README walk-through runner (scripts/readme-walkthrough.mjs): it finds
// the README's marked blocks, leaves no placeholder to fill by hand, and
// catches a failing answer. .ci/run runs the walk-through itself against
// the started server. Needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blocks, problems, script } from '../scripts/readme-walkthrough.mjs';
import { contractDir } from '../scripts/schema.mjs';

const readme = readFileSync(join(contractDir, '..', 'README.md'), 'utf8');

test('the README walk-through is marked and has nothing to fill in', () => {
  const found = blocks(readme);
  assert.ok(found.length >= 2, `found ${found.length} marked blocks`);
  const text = found.join('\n');
  assert.doesNotMatch(text, /<[A-Z][A-Z ]*>|"<|<endCursor>/, 'a placeholder to fill by hand');
  assert.match(text, /claimSlot/);
  assert.match(text, /endsAt/, 'the first query asks for endsAt');
  const run = script(readme, { host: '127.0.0.1:1', bin: '/x' });
  assert.doesNotMatch(run, /localhost:8080|go run \.\/cmd\/voresishoj/);
  assert.doesNotMatch(run, /^go run \.\/cmd\/voresishoj &/m, 'the blocks start no server');
});

test('a failing answer fails the walk-through', () => {
  assert.deepEqual(problems('{\n  "data": { "x": { "userErrors": [] } }\n}'), []);
  assert.equal(problems('{"errors":[{"message":"x"}]}').length, 1);
  assert.equal(problems('{ "userErrors": [\n  { "code": "OVERLAPS_OTHER_CLAIM" } ] }').length, 1);
  assert.equal(problems('ok\nnull\n').length, 1);
});
