// The operations lint: every selection of an object or interface that has
// an `id` field selects `id` (directly, or through a fragment that always
// applies). Normalised caches (Apollo's InMemoryCache, urql's graphcache)
// key objects by id; an object fetched without it is stored inside its
// parent, and a screen that fetched the same object with its id no longer
// shares it (after MyShifts, Apollo's cached ActivityDetail was gone).
//
//   node scripts/operations-lint.mjs      (exits 1 and lists the places)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  Kind,
  TypeInfo,
  buildSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  parse,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { contractDir, currentSDL } from './schema.mjs';

// lint returns one message per selection set of a type with an `id`
// field that does not select it, as "file:line: Type at path".
export function lint({ schema = buildSchema(currentSDL()), sources = readOperations() } = {}) {
  const docs = sources.map(({ name, text }) => ({ name, doc: parse(text) }));
  const fragments = new Map();
  for (const { doc } of docs) {
    for (const d of doc.definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    }
  }
  const problems = [];
  for (const { name, doc } of docs) {
    const typeInfo = new TypeInfo(schema);
    const path = [];
    visit(
      doc,
      visitWithTypeInfo(typeInfo, {
        OperationDefinition: {
          enter: (node) => void path.push(node.name?.value ?? node.operation),
          leave: () => void path.pop(),
        },
        FragmentDefinition: {
          enter: (node) => void path.push(`fragment ${node.name.value}`),
          leave: () => void path.pop(),
        },
        Field: {
          enter: (node) => void path.push(node.alias?.value ?? node.name.value),
          leave: () => void path.pop(),
        },
        SelectionSet(node, _key, parent) {
          // A fragment's own selection set is checked where it is spread.
          if (parent?.kind === Kind.FRAGMENT_DEFINITION || parent?.kind === Kind.INLINE_FRAGMENT) return;
          if (parent?.kind === Kind.OPERATION_DEFINITION) return;
          const type = getNamedType(typeInfo.getParentType());
          if (!(isObjectType(type) || isInterfaceType(type)) || !type.getFields().id) return;
          if (selectsId(node, type, fragments, schema)) return;
          const line = node.loc ? node.loc.source.body.slice(0, node.loc.start).split('\n').length : 0;
          problems.push(`${name}:${line}: ${type.name} at ${path.join('.')} does not select id`);
        },
      }),
    );
  }
  return problems;
}

// selectsId reports whether the selection set asks for `id` under its own
// name, itself or through spreads and inline fragments whose condition
// every object of the type meets.
function selectsId(set, type, fragments, schema, seen = new Set()) {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD && s.name.value === 'id' && (!s.alias || s.alias.value === 'id')) return true;
    if (s.kind === Kind.INLINE_FRAGMENT && always(s.typeCondition, type, schema)) {
      if (selectsId(s.selectionSet, type, fragments, schema, seen)) return true;
    }
    if (s.kind === Kind.FRAGMENT_SPREAD && !seen.has(s.name.value)) {
      seen.add(s.name.value);
      const f = fragments.get(s.name.value);
      if (f && always(f.typeCondition, type, schema) && selectsId(f.selectionSet, type, fragments, schema, seen)) {
        return true;
      }
    }
  }
  return false;
}

function always(condition, type, schema) {
  if (!condition) return true;
  const on = schema.getType(condition.name.value);
  return on === type || (isInterfaceType(on) && isObjectType(type) && type.getInterfaces().includes(on));
}

export function readOperations(dir = join(contractDir, 'operations')) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => ({ name: `operations/${f}`, text: readFileSync(join(dir, f), 'utf8') }));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const problems = lint();
  if (problems.length > 0) {
    console.error('Selections without id (normalised caches cannot key these objects):');
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log('every selection of a type with id selects it');
}
