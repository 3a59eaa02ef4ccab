package app

import (
	"context"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// seedDemo creates the demo users, their profiles and two groups when they are absent,
// first deleting them when reset is set. Their password is NEXUS_DEMO_PASSWORD, set again
// at every start so that an existing database never keeps an older one; without it, a
// random password is logged once when the accounts are created and kept afterwards.
func (a *App) seedDemo(ctx context.Context, now time.Time, reset bool) error {
	if reset {
		if err := a.db.DeleteDemo(ctx); err != nil {
			return err
		}
		a.log.InfoContext(ctx, "demo data deleted", "users", store.DemoUsers)
	}
	seeded, err := a.db.DemoSeeded(ctx)
	if err != nil {
		return err
	}
	pw := a.cfg.DemoPassword
	if seeded {
		if pw == "" {
			a.log.InfoContext(ctx, "demo data present; demo password unchanged (set NEXUS_DEMO_PASSWORD to choose it, or run `nexus reset-demo`)",
				"users", store.DemoUsers)
			return nil
		}
		return a.applyDemoPassword(ctx, pw)
	}
	generated := pw == ""
	if generated {
		pw = config.RandomHex(8)
	}
	// Hashed once, before the transaction, which stays short: the demo accounts share
	// their password, so they may share its hash.
	hash, err := a.auth.HashPassword(pw)
	if err != nil {
		return err
	}
	hashes := map[string]string{}
	for _, email := range store.DemoUsers {
		hashes[email] = hash
	}
	err = a.db.SeedDemo(ctx, hashes, now)
	if errors.Is(err, store.ErrDemoExists) {
		a.log.InfoContext(ctx, "demo data created by another instance")
		if generated {
			return nil
		}
		return a.applyDemoPassword(ctx, pw)
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

// applyDemoPassword sets NEXUS_DEMO_PASSWORD on the existing demo accounts.
func (a *App) applyDemoPassword(ctx context.Context, pw string) error {
	hash, err := a.auth.HashPassword(pw)
	if err != nil {
		return err
	}
	n, err := a.db.SetDemoPassword(ctx, hash)
	if err != nil {
		return err
	}
	a.log.InfoContext(ctx, "demo password set from NEXUS_DEMO_PASSWORD", "users", store.DemoUsers, "accounts", n)
	return nil
}
