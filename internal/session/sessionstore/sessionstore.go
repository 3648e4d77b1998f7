// Package sessionstore lets session.Resolve find impersonation targets in the
// directory store. It is the only part of session resolution that does I/O,
// kept apart so that internal/session stays pure.
package sessionstore

import (
	"context"
	"errors"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/session"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Directory implements session.Directory over a store.
type Directory struct{ st store.Store }

// New returns a session.Directory reading st.
func New(st store.Store) *Directory { return &Directory{st: st} }

var _ session.Directory = (*Directory)(nil)

func asUser(u directory.User) session.User {
	name := u.ExternalIDs[directory.PlatformTrino]
	if name == "" {
		name = u.Email
	}
	return session.User{Username: u.Email, TrinoName: name}
}

// one runs a lookup of a single user, turning ErrNotFound into found=false.
func (d *Directory) one(ctx context.Context, fn func(store.Reader) (directory.User, error)) (session.User, bool, error) {
	var u directory.User
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		u, err = fn(r)
		return err
	})
	if errors.Is(err, directory.ErrNotFound) {
		return session.User{}, false, nil
	}
	if err != nil {
		return session.User{}, false, err
	}
	return asUser(u), true, nil
}

// UserByTrinoName finds the user whose trino external id is name (exactly,
// as Trino names are compared).
func (d *Directory) UserByTrinoName(ctx context.Context, name string) (session.User, bool, error) {
	return d.one(ctx, func(r store.Reader) (directory.User, error) {
		return r.UserByExternalID(ctx, directory.PlatformTrino, name)
	})
}

// UserByUsername finds a user by directory username.
func (d *Directory) UserByUsername(ctx context.Context, username string) (session.User, bool, error) {
	return d.one(ctx, func(r store.Reader) (directory.User, error) { return r.GetUser(ctx, username) })
}

// UserByIAMUserID finds the user of identity provider iam whose user id is
// userID, both compared exactly (they are case-sensitive). Disabled users are
// found too: the policies, not resolution, decide that they cannot be
// impersonated. The store has no index on user ids, so this reads the
// provider's users; that is one read per impersonated query.
func (d *Directory) UserByIAMUserID(ctx context.Context, iam, userID string) (session.User, bool, error) {
	var users []directory.User
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		users, err = r.ListUsers(ctx, store.UserFilter{IAM: iam, IncludeDisabled: true})
		return err
	})
	if err != nil {
		return session.User{}, false, err
	}
	for _, u := range users {
		if u.IAM == iam && u.UserID == userID {
			return asUser(u), true, nil
		}
	}
	return session.User{}, false, nil
}
