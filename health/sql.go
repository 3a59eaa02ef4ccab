package health

import (
	"database/sql"
	"errors"
)

// SQL returns a check that pings db within the check's timeout: the ping takes a pooled
// connection (opening one if needed) and verifies it is alive. It is a "datastore"
// component. A nil db is reported by New.
func SQL(name string, db *sql.DB) Check {
	c := Check{Name: name, ComponentType: "datastore"}
	if db == nil {
		c.err = errors.New("SQL check without a database")
		return c
	}
	c.Func = db.PingContext
	return c
}
