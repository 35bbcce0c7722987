// The documents the app ships: every operation in operations/*.graphql with
// the fragments it uses, and, when the trusted-documents manifest exists,
// the manifest's text and sha256 for it (what the app sends by hash).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, visit } from 'graphql';
import { contractDir } from './schema.mjs';

const opsDir = join(contractDir, 'operations');
const manifestPath = join(contractDir, 'trusted-documents.json');

function definitions() {
  const defs = [];
  for (const f of readdirSync(opsDir).filter((f) => f.endsWith('.graphql')).sort()) {
    defs.push(...parse(readFileSync(join(opsDir, f), 'utf8')).definitions);
  }
  return defs;
}

function spreads(node) {
  const names = new Set();
  visit(node, { FragmentSpread: (s) => void names.add(s.name.value) });
  return names;
}

// loadOperations returns name → { document, hash?, text? }.
export function loadOperations() {
  const defs = definitions();
  const fragments = new Map(defs.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : null;
  const byName = new Map();
  if (manifest) {
    for (const [hash, text] of Object.entries(manifest)) {
      for (const d of parse(text).definitions) {
        if (d.kind === Kind.OPERATION_DEFINITION) byName.set(d.name.value, { hash, text });
      }
    }
  }
  const ops = new Map();
  for (const op of defs.filter((d) => d.kind === Kind.OPERATION_DEFINITION)) {
    const used = new Map();
    const queue = [...spreads(op)];
    while (queue.length > 0) {
      const name = queue.pop();
      if (used.has(name)) continue;
      const frag = fragments.get(name);
      if (!frag) throw new Error(`operation ${op.name.value} uses unknown fragment ${name}`);
      used.set(name, frag);
      queue.push(...spreads(frag));
    }
    const document = { kind: Kind.DOCUMENT, definitions: [op, ...used.values()] };
    ops.set(op.name.value, { document, ...byName.get(op.name.value) });
  }
  return { ops, manifest: manifest !== null };
}
