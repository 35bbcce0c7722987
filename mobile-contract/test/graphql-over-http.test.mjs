// The GraphQL over HTTP audit (npm graphql-http, auditServer) against a
// started server. Every MUST audit has to pass. SHOULD audits that fail are
// printed and must be explained, by audit id, in the README's "GraphQL over
// HTTP" section, so a new one cannot slip in unnoticed.
//
// Needs VORESISHOJ_URL (see .ci/run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditServer } from 'graphql-http';
import { contractDir } from '../scripts/schema.mjs';

const base = process.env.VORESISHOJ_URL;

test('the server passes the GraphQL over HTTP audit', { timeout: 30000 }, async (t) => {
  assert.ok(base, 'VORESISHOJ_URL must be set');
  const results = await auditServer({ url: `${base}/graphql` });
  assert.ok(results.length > 50, `ran ${results.length} audits`);

  const failed = results.filter((r) => r.status !== 'ok');
  for (const r of failed) t.diagnostic(`${r.status} ${r.id} ${r.name}: ${r.reason}`);
  t.diagnostic(`${results.length - failed.length}/${results.length} audits ok`);

  const must = failed.filter((r) => r.name.startsWith('MUST'));
  assert.deepEqual(
    must.map((r) => `${r.id} ${r.name}: ${r.reason}`),
    [],
    'MUST audits of the GraphQL over HTTP spec fail',
  );

  const readme = readFileSync(join(contractDir, '..', 'README.md'), 'utf8');
  const section = readme.split('## GraphQL over HTTP')[1]?.split('\n## ')[0] ?? '';
  const unexplained = failed.filter((r) => r.name.startsWith('SHOULD') && !section.includes(r.id));
  assert.deepEqual(
    unexplained.map((r) => `${r.id} ${r.name}: ${r.reason}`),
    [],
    'SHOULD audits that fail need their id and reason in the README section "GraphQL over HTTP"',
  );
});
