package health

import (
	"context"
	"errors"
	"reflect"
)

// Pinger is the part of *sql.DB (and *sql.Conn) an SQL check uses.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// SQL returns a check that pings db within the check's timeout. With *sql.DB the ping
// takes a pooled connection (opening one if needed) and verifies it is alive. It is a
// "datastore" component. A nil db, including a nil *sql.DB, is reported by New.
func SQL(name string, db Pinger) Check {
	c := Check{Name: name, ComponentType: "datastore"}
	if v := reflect.ValueOf(db); db == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		c.err = errors.New("SQL check without a database")
		return c
	}
	c.Func = db.PingContext
	return c
}
