package apperr

// Codes a client finds in extensions.code of a GraphQL error, and of the
// HTTP errors the server writes in that shape (a refused sign-in token, a
// rate limit): what kind of failure it is, before any payload. They are
// written here only, so the app has one list to branch on. A problem the
// person can fix travels as a user error in the payload instead, with a
// code of its own (UserError.Code) and a message; a user error raised
// outside a payload (a malformed id in a query argument) is
// CodeBadUserInput with the user error's code in extensions.userErrorCode.
// gqlgen adds its own GRAPHQL_PARSE_FAILED and GRAPHQL_VALIDATION_FAILED
// for documents that do not parse or do not fit the schema.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	// CodeNotFound (in apperr.go) is also the code of a row that does not
	// exist.
	CodeBadUserInput = "BAD_USER_INPUT"
	// CodeInternal is every fault on the server's side: logged in full,
	// shown as a generic message in the caller's language.
	CodeInternal                = "INTERNAL_SERVER_ERROR"
	CodeTimeout                 = "TIMEOUT"
	CodeRateLimited             = "RATE_LIMITED"
	CodeDepthLimitExceeded      = "DEPTH_LIMIT_EXCEEDED"
	CodeAliasLimitExceeded      = "ALIAS_LIMIT_EXCEEDED"
	CodeComplexityLimitExceeded = "COMPLEXITY_LIMIT_EXCEEDED"
	CodePayloadTooLarge         = "PAYLOAD_TOO_LARGE"
	CodeFieldLimitExceeded      = "FIELD_LIMIT_EXCEEDED"
	CodePersistedQueryNotFound  = "PERSISTED_QUERY_NOT_FOUND"
	CodePersistedQueryRequired  = "PERSISTED_QUERY_REQUIRED"
	CodeTooManyOperations       = "TOO_MANY_OPERATIONS"
	CodeTooManyConnections      = "TOO_MANY_CONNECTIONS"
	// CodeEmailNotVerified answers a sign-in token naming an address
	// another account holds, which the token does not prove: the app asks
	// the person to verify their e-mail and sends the next token.
	CodeEmailNotVerified = "EMAIL_NOT_VERIFIED"
)

// ClientCodes are the codes above, for checks that every one is
// documented and translated where it needs to be.
var ClientCodes = []string{
	CodeUnauthenticated, CodeForbidden, CodeNotFound, CodeBadUserInput, CodeInternal, CodeTimeout,
	CodeRateLimited, CodeDepthLimitExceeded, CodeAliasLimitExceeded, CodeComplexityLimitExceeded,
	CodeFieldLimitExceeded, CodePayloadTooLarge, CodePersistedQueryNotFound, CodePersistedQueryRequired, CodeTooManyOperations,
	CodeTooManyConnections, CodeEmailNotVerified,
}
