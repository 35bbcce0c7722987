// npm run snapshot: write the current schema to mobile-contract/schema.graphql.
//
// The snapshot is what the app's released versions rely on, so it is only
// moved on purpose. A breaking change (as @graphql-inspector sees it) is
// written only when CHANGELOG.md names every schema coordinate it breaks,
// e.g. "Activity.title".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { changelogPath, currentSDL, snapshotPath } from './schema.mjs';
import { compare } from './schema-gate.mjs';

const next = currentSDL();
if (existsSync(snapshotPath)) {
  const { breaking } = await compare(readFileSync(snapshotPath, 'utf8'), next);
  const changelog = readFileSync(changelogPath, 'utf8');
  const unrecorded = breaking.filter((c) => !c.path || !changelog.includes(c.path));
  if (unrecorded.length > 0) {
    console.error('Breaking changes not recorded in mobile-contract/CHANGELOG.md:');
    for (const c of unrecorded) console.error(`  - ${c.message}${c.path ? ` (${c.path})` : ''}`);
    console.error('\nDescribe each one (naming the coordinate, e.g. `Activity.title`) in CHANGELOG.md,');
    console.error('with what old app versions will see, then run npm run snapshot again.');
    process.exit(1);
  }
}
writeFileSync(snapshotPath, next);
console.log(`wrote ${relative(process.cwd(), snapshotPath)}`);
