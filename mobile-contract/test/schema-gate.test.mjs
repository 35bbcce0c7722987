// The breaking-change gate (scripts/schema-gate.mjs) against the real schema
// and against temporary copies of it with a change made on purpose. Needs
// no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gate } from '../scripts/schema-gate.mjs';
import { contractDir, schemaDir, snapshotPath } from '../scripts/schema.mjs';

const run = promisify(execFile);

// withSchemaCopy copies schema/ to a temp dir and rewrites one file in it.
function withSchemaCopy(t, file, edit) {
  const dir = mkdtempSync(join(tmpdir(), 'schema-gate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(schemaDir, dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, `the edit changed ${file}`);
  writeFileSync(path, after);
  return dir;
}

test('the committed snapshot matches schema/', async () => {
  const result = await gate();
  assert.ok(result.ok, result.message);
  assert.deepEqual(result.changes, []);
});

test('removing a field the app uses fails the gate', async (t) => {
  const dir = withSchemaCopy(t, 'activity.graphqls', (s) =>
    s.replace(/\n  "[^"\n]*"\n  title: String!\n/, '\n'),
  );
  const result = await gate({ schemaDir: dir });
  assert.equal(result.ok, false);
  assert.match(result.message, /Field 'title' was removed from object type 'Activity'/);
  assert.match(result.message, /CHANGELOG\.md/);
  assert.match(result.message, /npm --prefix mobile-contract run snapshot/);

  // The CLI the gate stands in for agrees, offline, from node_modules.
  const cli = join(contractDir, 'node_modules', '.bin', 'graphql-inspector');
  const err = await run(cli, ['diff', snapshotPath, join(dir, '*.graphqls')], { env: { ...process.env, NO_COLOR: '1' } })
    .then(() => null, (e) => e);
  assert.ok(err, 'graphql-inspector diff exits non-zero on a breaking change');
  assert.match(err.stdout + err.stderr, /Field '?title'? was removed from object type '?Activity'?/);
});

test('making an argument required fails the gate', async (t) => {
  const dir = withSchemaCopy(t, 'volunteer.graphqls', (s) =>
    s.replace(/(input CancelClaimInput \{\n(  .*\n)*?  claimId: ID!\n)/, '$1  reason: String!\n'),
  );
  const result = await gate({ schemaDir: dir });
  assert.equal(result.ok, false);
  assert.match(result.message, /\[BREAKING\].*reason/);
});

test('a non-breaking addition still needs the snapshot updated', async (t) => {
  const dir = withSchemaCopy(t, 'activity.graphqls', (s) =>
    s.replace('type Activity implements Node {\n', 'type Activity implements Node {\n  subtitle: String\n'),
  );
  const result = await gate({ schemaDir: dir });
  assert.equal(result.ok, false);
  assert.match(result.message, /Field 'subtitle' was added to object type 'Activity'/);
  assert.match(result.message, /run snapshot/);
  assert.doesNotMatch(result.message, /CHANGELOG/);
});
