package health

import (
	"context"
	"errors"
)

// Pinger is the part of *sql.DB (and *sql.Conn) an SQL check uses.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// SQL returns a check that pings db within the check's timeout. With *sql.DB the ping
// takes a pooled connection (opening one if needed) and verifies it is alive. It is a
// "datastore" component.
func SQL(name string, db Pinger) Check {
	c := Check{Name: name, ComponentType: "datastore"}
	if db == nil {
		c.err = errors.New("SQL check without a database")
		return c
	}
	c.Func = db.PingContext
	return c
}
