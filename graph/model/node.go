// Package model holds the GraphQL-only types gqlgen generates, and Node.
package model

// Node is any object with a global ID. It is empty so the domain types can
// be bound directly without knowing about GraphQL; the resolvers that
// return a Node hand back one of the bound domain types.
type Node any
