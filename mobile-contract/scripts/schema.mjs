// The schema the server serves, read from schema/*.graphqls, and the
// committed snapshot of it that the app last saw (mobile-contract/schema.graphql).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, lexicographicSortSchema, printSchema } from 'graphql';

const here = dirname(fileURLToPath(import.meta.url));
export const contractDir = join(here, '..');
export const schemaDir = join(contractDir, '..', 'schema');
export const snapshotPath = join(contractDir, 'schema.graphql');
export const changelogPath = join(contractDir, 'CHANGELOG.md');

// currentSDL prints the schema in schemaDir. Types are sorted so that moving
// a type between files is not a change.
export function currentSDL(dir = schemaDir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphqls')).sort();
  if (files.length === 0) throw new Error(`no .graphqls files in ${dir}`);
  const source = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
  return printSDL(buildSchema(source));
}

export function printSDL(schema) {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
