// The breaking-change gate: compares schema/*.graphqls with the committed
// snapshot mobile-contract/schema.graphql using @graphql-inspector/core, the
// engine of `graphql-inspector diff`. It fails on a breaking change, and on
// any difference at all, so the snapshot never drifts from the schema
// without someone deciding it should.
//
//   node scripts/schema-gate.mjs [schemaDir]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { buildSchema } from 'graphql';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import { currentSDL, snapshotPath } from './schema.mjs';

// compare returns the changes from the old SDL to the new one, with the
// breaking ones picked out.
export async function compare(oldSDL, newSDL) {
  const changes = await diff(buildSchema(oldSDL), buildSchema(newSDL));
  return split(changes);
}

function split(changes) {
  return {
    changes,
    breaking: changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking),
    dangerous: changes.filter((c) => c.criticality.level === CriticalityLevel.Dangerous),
  };
}

// gate returns { ok, message } for the schema in schemaDir.
export async function gate({ schemaDir, snapshot = snapshotPath } = {}) {
  const old = readFileSync(snapshot, 'utf8');
  const current = currentSDL(schemaDir);
  const { changes, breaking } = await compare(old, current);
  const list = (cs) => cs.map((c) => `  - [${c.criticality.level}] ${c.message}`).join('\n');
  if (breaking.length > 0) {
    return {
      ok: false,
      changes,
      message:
        `The schema breaks the app's contract (mobile-contract/schema.graphql):\n${list(breaking)}\n` +
        'Released app versions keep sending these operations. Keep the old field or argument ' +
        '(deprecate it) if you can; if the break is intended, record it in ' +
        'mobile-contract/CHANGELOG.md and run `npm --prefix mobile-contract run snapshot`.',
    };
  }
  if (current !== old) {
    return {
      ok: false,
      changes,
      message:
        'The schema changed without breaking the app' +
        (changes.length > 0 ? `:\n${list(changes)}\n` : ' (descriptions or ordering only).\n') +
        'Run `npm --prefix mobile-contract run snapshot` and commit mobile-contract/schema.graphql.',
    };
  }
  return { ok: true, changes, message: 'the schema matches mobile-contract/schema.graphql' };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await gate({ schemaDir: process.argv[2] });
  (result.ok ? console.log : console.error)(result.message);
  process.exit(result.ok ? 0 : 1);
}
