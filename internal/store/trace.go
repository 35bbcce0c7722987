package store

import (
	"context"
	"database/sql/driver"

	"github.com/XSAM/otelsql"
	"github.com/jmoiron/sqlx"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Option changes how Open opens the database.
type Option func(*options)

type options struct{ traced bool }

// Traced makes each SQL statement run inside a traced request or job a
// span of its trace (OpenTelemetry, through otelsql). Statements outside a
// trace (River polling for jobs) make none.
func Traced() Option { return func(o *options) { o.traced = true } }

// open is sqlx.Open, wrapped for tracing when asked.
func open(driverName, dsn string, opts []Option) (*sqlx.DB, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if !o.traced {
		return sqlx.Open(driverName, dsn)
	}
	system := "postgresql"
	if driverName == "sqlite" {
		system = "sqlite"
	}
	db, err := otelsql.Open(driverName, dsn,
		otelsql.WithAttributes(attribute.String("db.system.name", system)),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			DisableErrSkip:       true,
			OmitConnResetSession: true,
			OmitConnPrepare:      true,
			OmitRows:             true,
			OmitConnectorConnect: true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanContextFromContext(ctx).IsValid()
			},
		}))
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(db, driverName), nil
}
