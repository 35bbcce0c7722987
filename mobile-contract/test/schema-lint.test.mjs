// graphql-schema-linter with the rules of .graphql-schema-linterrc
// (descriptions required, Relay shapes) on the real schema, and on copies
// with a description or a Relay field taken out, so the rules are shown to
// bite. Needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { contractDir, schemaDir } from '../scripts/schema.mjs';

const run = promisify(execFile);
const linter = join(contractDir, 'node_modules', '.bin', 'graphql-schema-linter');

// lint runs the linter on the .graphqls files in dir with the committed
// rules and returns its exit code and output.
async function lint(dir) {
  try {
    const { stdout } = await run(linter, ['-c', contractDir, '-f', 'compact', join(dir, '*.graphqls')], { cwd: contractDir });
    return { code: 0, out: stdout };
  } catch (err) {
    return { code: err.code, out: `${err.stdout}${err.stderr}` };
  }
}

function schemaCopy(t, file, edit) {
  const dir = mkdtempSync(join(tmpdir(), 'schema-lint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(schemaDir, dir, { recursive: true });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, `the edit changed ${file}`);
  writeFileSync(path, after);
  return dir;
}

test('the schema passes the linter', async () => {
  const { code, out } = await lint(schemaDir);
  assert.equal(code, 0, out);
});

test('a field without a description fails', async (t) => {
  const dir = schemaCopy(t, 'activity.graphqls', (s) =>
    s.replace('type Activity implements Node {\n', 'type Activity implements Node {\n  undescribed: String\n'));
  const { code, out } = await lint(dir);
  assert.notEqual(code, 0);
  assert.match(out, /Activity\.undescribed.*fields-have-descriptions/);
});

test('an argument and an enum value without a description fail', async (t) => {
  const dir = schemaCopy(t, 'activity.graphqls', (s) =>
    s.replace('enum ActivityStatus {\n', 'enum ActivityStatus {\n  ARCHIVED\n')
      .replace(/\n  activity\(\n/, '\n  activity(\n    bare: Int\n'));
  const { code, out } = await lint(dir);
  assert.notEqual(code, 0);
  assert.match(out, /ActivityStatus\.ARCHIVED.*enum-values-have-descriptions/);
  assert.match(out, /bare.*arguments-have-descriptions/);
});

// The linter's PageInfo rule asks for hasNextPage and hasPreviousPage;
// startCursor is checked by graph/read_test.go.
test('a PageInfo without hasPreviousPage fails the Relay rule', async (t) => {
  const dir = schemaCopy(t, 'schema.graphqls', (s) => s.replace(/\n *"[^"\n]*"\n  hasPreviousPage: Boolean!\n/, '\n'));
  const { code, out } = await lint(dir);
  assert.notEqual(code, 0);
  assert.match(out, /hasPreviousPage.*relay-page-info-spec/);
});

test('a connection field without first and after fails the Relay rule', async (t) => {
  const dir = schemaCopy(t, 'stories.graphqls', (s) =>
    s.replace('type Call implements Node {\n', 'type Call implements Node {\n  "Stories without paging."\n  unpaged: StoryConnection!\n'));
  const { code, out } = await lint(dir);
  assert.notEqual(code, 0);
  assert.match(out, /stories.graphqls:\d+:3 A field that returns a Connection Type must include forward pagination.*relay-connection-arguments-spec/);
});
