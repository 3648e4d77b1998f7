package session

import (
	"context"
	"strings"
)

// User is a directory user as resolution needs it.
type User struct {
	Username  string // the directory username (the lower-cased email)
	TrinoName string // the name Trino knows them by: their trino external id, else Username
}

// Directory finds the users a target may name. An implementation reads the
// directory store; found is false when there is no such user (an error is
// for failures only).
type Directory interface {
	UserByTrinoName(ctx context.Context, name string) (u User, found bool, err error)
	UserByUsername(ctx context.Context, username string) (u User, found bool, err error)
	UserByIAMUserID(ctx context.Context, iam, userID string) (u User, found bool, err error)
}

// Resolved is whom a session's queries run as.
type Resolved struct {
	Active    bool   // the properties name a target
	Target    Target // what they name
	TrinoUser string // the Trino session user to run queries as (X-Trino-User)
	Username  string // the directory user, "" when the name is unknown to the directory
}

// Resolve turns a session's impersonation into the Trino user its queries run
// as. A direct name resolves as policies resolve Trino names — a Trino name
// first, then a directory username — and the target's Trino name is used, so
// that current_user and every decision see the name Trino knows. A name the
// directory does not know is passed on unchanged: the query is then denied by
// Trino's ImpersonateUser check, which is where permissions are decided. The
// identity-provider form must name a directory user (CodeNotFound otherwise),
// because its user id is no Trino name to fall back on.
func Resolve(ctx context.Context, dir Directory, props Props) (Resolved, error) {
	t, active, err := props.Target()
	if err != nil || !active {
		return Resolved{}, err
	}
	r := Resolved{Active: true, Target: t}
	if t.User != "" {
		u, found, err := dir.UserByTrinoName(ctx, t.User)
		if err != nil {
			return Resolved{}, err
		}
		if !found {
			if u, found, err = dir.UserByUsername(ctx, strings.ToLower(strings.TrimSpace(t.User))); err != nil {
				return Resolved{}, err
			}
		}
		if !found {
			r.TrinoUser = t.User
			return r, nil
		}
		r.TrinoUser, r.Username = u.TrinoName, u.Username
		return r, nil
	}
	u, found, err := dir.UserByIAMUserID(ctx, t.IAM, t.UserID)
	if err != nil {
		return Resolved{}, err
	}
	if !found {
		return Resolved{}, notFound("cannot impersonate %s: no such user in the directory", t)
	}
	r.TrinoUser, r.Username = u.TrinoName, u.Username
	return r, nil
}
