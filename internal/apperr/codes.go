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
	// CodeMethodNotAllowed and CodeUnsupportedMediaType answer an HTTP
	// request no transport of /graphql takes (405 and 415).
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
)

// ClientCodes are the codes above, for checks that every one is
// documented and translated where it needs to be.
var ClientCodes = []string{
	CodeUnauthenticated, CodeForbidden, CodeNotFound, CodeBadUserInput, CodeInternal, CodeTimeout,
	CodeRateLimited, CodeDepthLimitExceeded, CodeAliasLimitExceeded, CodeComplexityLimitExceeded,
	CodeFieldLimitExceeded, CodePayloadTooLarge, CodePersistedQueryNotFound, CodePersistedQueryRequired, CodeTooManyOperations,
	CodeTooManyConnections, CodeEmailNotVerified, CodeMethodNotAllowed, CodeUnsupportedMediaType,
}

// UserCodes are the codes of user errors: UserError.code and errorCode,
// and extensions.userErrorCode of a BAD_USER_INPUT error. They are the
// values of the schema's UserErrorCode enum; the constants live with the
// package that raises them. A test fails when the code base raises a
// code not listed here, or the schema's enum differs from this list.
var UserCodes = []string{
	"ACTIVITY_CANCELLED", "ACTIVITY_NOT_FOUND", "AGE_REQUIRED", "ALREADY_CLAIMED", "ALREADY_INVITED",
	"ALREADY_ORGANISER", "ALREADY_REPORTED", "APPROVAL_NOT_REQUESTED", "CALENDAR_HTTP_STATUS",
	"CALENDAR_IMPORT_FAILED", "CALENDAR_INVALID", "CALENDAR_SOURCE_EXISTS",
	"CALENDAR_SOURCE_NOT_FOUND", "CALENDAR_TIMEOUT", "CALENDAR_TOO_BIG", "CALENDAR_UNREACHABLE",
	"CALENDAR_URL_INVALID", "CALENDAR_URL_PRIVATE", "CALL_CLOSED", "CALL_NOT_FOUND",
	"CAPACITY_BELOW_TAKEN", "CLAIM_NOT_CONFIRMED", "CLAIM_NOT_FOUND", "CONFIRMATION_REQUIRED",
	"CONSENT_REQUIRED", "DAILY_LIMIT_REACHED", "DEADLINE_IN_PAST", "ENDS_BEFORE_START",
	"ENDS_BEFORE_STARTS", "EXACTLY_ONE_TARGET", "GUARDIAN_CONSENT_REQUIRED", "IDEMPOTENCY_KEY_REUSED",
	"IMAGE_SIZE_INVALID", "IMAGE_TOO_LARGE", "INITIATIVE_ALREADY_JOINED", "INITIATIVE_ALREADY_REPORTED",
	"INITIATIVE_NOT_A_MEMBER", "INITIATIVE_NOT_FOUND", "INITIATIVE_NOT_JOINED", "INITIATIVE_NOT_OPEN",
	"INITIATIVE_NOT_PROPOSED", "INITIATIVE_UNDER_REVIEW", "INVALID_AUDIENCE",
	"INVALID_CANCEL_DEADLINE", "INVALID_CHARACTER", "INVALID_CURSOR", "INVALID_DATE",
	"INVALID_FOLLOW_TARGET", "INVALID_ID", "INVALID_INPUT", "INVALID_LANGUAGE", "INVALID_LOCATION", "INVALID_NAME",
	"INVALID_PAGE_SIZE", "INVALID_PHONE", "INVALID_PLATFORM", "INVALID_QUIET_HOURS",
	"INVALID_REACTION", "INVALID_RECURRENCE", "INVALID_REGISTRATION_WINDOW", "INVALID_SIGNUP_WINDOW",
	"INVALID_STATUS_CHANGE", "INVALID_SYNC_TOKEN", "INVALID_TIME", "INVALID_URL", "INVALID_YOUTUBE_LINK",
	"INVITATION_EXPIRED", "INVITATION_NOT_FOUND", "INVITATION_NOT_PENDING",
	"INVITATION_WRONG_ACCOUNT", "IN_FUTURE", "IN_PAST", "LAST_ORGANISER", "LINK_HOST_MISMATCH",
	"NAME_REQUIRED", "NAME_TAKEN", "NOT_ENOUGH_SEATS", "NOT_FOUND", "NOT_ORGANISER", "OCCURRENCE_NOT_FOUND",
	"OCCURRENCE_NOT_STARTED", "OCCURRENCE_STARTED", "ORGANISATION_NOT_FOUND", "ORGANISER_SENIOR",
	"OUTLET_REQUIRED", "OUT_OF_RANGE", "OVERLAPS_OTHER_CLAIM", "OWN_INITIATIVE", "OWN_QUALIFICATION", "PARENTAL_CONSENT_REQUIRED",
	"PARTICIPATION_NOT_FOUND", "PARTICIPATION_NOT_GOING", "PARTY_TOO_LARGE", "PHOTO_NOT_FOUND",
	"PHOTO_TOO_LARGE", "PHOTO_TYPE_NOT_ALLOWED", "PHOTO_UNREADABLE", "PLACE_NOT_FOUND", "RADIUS_TOO_LARGE",
	"REASON_REQUIRED", "RECURRENCE_START_MISMATCH", "REGISTRATION_CLOSED", "REGISTRATION_NOT_OPEN",
	"REQUIRED", "REQUIREMENT_NOT_MET", "SEARCH_EMPTY", "SEARCH_TOO_DEEP", "SEARCH_TOO_LONG",
	"SEARCH_TOO_MANY_WORDS", "SEATS_BELOW_GOING", "SENDING_LIMIT_REACHED", "SIGNUP_CLOSED",
	"SIGNUP_NOT_OPEN", "SLOT_IN_PAST", "SLOT_NOT_FOUND", "SLOT_NOT_STARTED",
	"SLOT_OUTSIDE_OCCURRENCE", "SLOT_TOO_LONG", "STARTS_IN_PAST", "STORY_INVALID_STATUS_CHANGE",
	"STORY_NOT_EDITABLE", "STORY_NOT_FOUND", "STORY_NOT_PUBLISHED", "SYNC_TOKEN_EXPIRED", "TIME_OUT_OF_RANGE", "TOO_LONG",
	"TOO_LONG_DURATION", "TOO_MANY_CLAIMS", "TOO_MANY_INVITATIONS", "TOO_MANY_LINKS",
	"TOO_MANY_PHOTOS", "TOO_MANY_PROPOSALS", "TOO_MANY_REPORTS", "TOO_MANY_SIGNUPS",
	"TOO_MANY_STORIES", "UNKNOWN_REQUIREMENT", "UNKNOWN_THEME", "USER_NOT_FOUND", "VALIDITY_TOO_LONG",
	"VERIFIED_ACCOUNT_REQUIRED",
}
