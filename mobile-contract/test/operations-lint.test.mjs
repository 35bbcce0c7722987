// The operations lint (scripts/operations-lint.mjs): the app's operations
// select id wherever the type has one, and the lint catches a selection
// that does not, through fragments and inline fragments too. Needs no
// server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSchema } from 'graphql';
import { lint } from '../scripts/operations-lint.mjs';

test('every selection of a type with id selects it', () => {
  assert.deepEqual(lint(), []);
});

test('the lint finds selections without id', () => {
  const schema = buildSchema(`
    interface Node { id: ID! }
    type Query { me: Me, place(id: ID!): Place, node(id: ID!): Node }
    type Me implements Node { id: ID! name: String place: Place }
    type Place implements Node { id: ID! name: String }
  `);
  const sources = [
    {
      name: 'ops.graphql',
      text: `
        query A { me { name place { name } } }
        query B { me { ...MeId place { ...on Place { id } } } }
        query C { node(id: "1") { ... on Place { name } } }
        query D { place(id: "1") { ...PlaceName } }
        query E { place(id: "1") { id: name } }
        fragment MeId on Me { id }
        fragment PlaceName on Place { name }
      `,
    },
  ];
  assert.deepEqual(lint({ schema, sources }), [
    'ops.graphql:2: Me at A.me does not select id',
    'ops.graphql:2: Place at A.me.place does not select id',
    'ops.graphql:4: Node at C.node does not select id',
    'ops.graphql:5: Place at D.place does not select id',
    'ops.graphql:6: Place at E.place does not select id',
  ]);
});
