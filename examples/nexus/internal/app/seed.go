package app

import (
	"context"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// seedDemo creates the demo users, their profiles and two groups, once. Their password
// is NEXUS_DEMO_PASSWORD, or a random one logged once when the accounts are created.
func (a *App) seedDemo(ctx context.Context, now time.Time) error {
	seeded, err := a.db.DemoSeeded(ctx)
	if err != nil {
		return err
	}
	if seeded {
		a.log.InfoContext(ctx, "demo data present; demo passwords unchanged")
		return nil
	}
	pw := a.cfg.DemoPassword
	generated := pw == ""
	if generated {
		pw = config.RandomHex(8)
	}
	// Hashed before the transaction, which stays short.
	hashes := map[string]string{}
	for _, email := range store.DemoUsers {
		if hashes[email], err = a.auth.HashPassword(pw); err != nil {
			return err
		}
	}
	err = a.db.SeedDemo(ctx, hashes, now)
	if errors.Is(err, store.ErrDemoExists) {
		a.log.InfoContext(ctx, "demo data created by another instance")
		return nil
	}
	if err != nil {
		return err
	}
	if generated {
		a.log.WarnContext(ctx, "demo users created with a random password (set NEXUS_DEMO_PASSWORD to choose it); it is shown only once",
			"users", store.DemoUsers, "password", pw)
	} else {
		a.log.InfoContext(ctx, "demo users created with NEXUS_DEMO_PASSWORD", "users", store.DemoUsers)
	}
	return nil
}
