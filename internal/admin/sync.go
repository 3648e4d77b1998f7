package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

// SyncActor is who background user-info syncs (periodic, or triggered by a
// Trino user appearing) act as in the audit log.
const SyncActor = "userinfo-sync"

// WithUserInfoClient sets the client that checks and reads user-info
// endpoints (default: userinfo.NewClient() with its defaults).
func WithUserInfoClient(c *userinfo.Client) Option { return func(v *Service) { v.userinfo = c } }

// WithCaseInsensitiveTrinoNames makes Trino names that differ only in case
// clash, as they do when the policies match them case-insensitively.
func WithCaseInsensitiveTrinoNames(on bool) Option { return func(v *Service) { v.foldTrinoNames = on } }

// SyncUser syncs a user from their identity provider's user-info endpoint
// now and returns them as they are after it. When the endpoint gives no
// usable answer nothing changes but the user's sync state, and the error
// (directory.ErrUnavailable) says why.
func (s *Service) SyncUser(ctx context.Context, p Principal, username string) (directory.User, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.User{}, err
	}
	u, err := s.syncUser(ctx, p.Username, username, false)
	if errors.Is(err, errNoEndpoint) {
		return u, directory.Invalid("iam", "identity provider %q of user %q has no user-info endpoint to sync from", u.IAM, u.Email)
	}
	return u, err
}

// SystemSync is SyncUser for background syncs (userinfo.SyncFunc): no
// caller to check, SyncActor in the audit log, and nothing to do for a user
// whose IAM has no endpoint. With onlyIfNeverSynced, a user the sync already
// tried is left alone: the decision path triggers it for Trino users who
// appear unsynced, and by the time it runs someone may have synced them.
func (s *Service) SystemSync(ctx context.Context, username string, onlyIfNeverSynced bool) error {
	_, err := s.syncUser(ctx, SyncActor, username, onlyIfNeverSynced)
	if errors.Is(err, errNoEndpoint) || errors.Is(err, errAlreadySynced) || errors.Is(err, directory.ErrNotFound) {
		return nil
	}
	return err
}

var (
	errNoEndpoint    = errors.New("no user-info endpoint")
	errAlreadySynced = errors.New("already synced")
	errMigrated      = errors.New("user moved to another identity provider during the sync")
)

// syncUser fetches outside any transaction (an endpoint may take its whole
// timeout, and must not hold the store's one writer meanwhile), then applies
// the answer and records the attempt in one transaction, which also checks
// that the user still belongs to the IAM that answered.
func (s *Service) syncUser(ctx context.Context, actor, username string, onlyNever bool) (directory.User, error) {
	username = directory.NormalizeUsername(username)
	var u directory.User
	var iam directory.IAM
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		if u, err = r.GetUser(ctx, username); err != nil {
			return err
		}
		iam, err = r.GetIAM(ctx, u.IAM)
		if errors.Is(err, directory.ErrNotFound) {
			return nil // a user of a missing IAM has no endpoint either
		}
		return err
	})
	if err != nil {
		return directory.User{}, err
	}
	if onlyNever && u.Sync != nil && u.Sync.LastSyncAt != nil {
		return u, errAlreadySynced
	}
	if iam.UserInfo == nil {
		return u, errNoEndpoint
	}

	info, fetchErr := s.userinfo.Fetch(ctx, iam.ID, *iam.UserInfo, u.UserID)
	if ctx.Err() != nil {
		// The caller went away (or the server is stopping): that says
		// nothing about the endpoint, so the user's state is left as it was.
		return u, ctx.Err()
	}

	var ch userinfo.Changes
	var out directory.User
	var at time.Time
	var recs []audit.Record
	err = s.store.Update(ctx, func(tx store.Tx) error {
		at = s.now().UTC()
		recs = nil
		cur, err := tx.GetUser(ctx, username)
		if err != nil {
			return err
		}
		if cur.IAM != iam.ID {
			return errMigrated
		}
		st := directory.SyncState{IAM: iam.ID, LastSyncAt: &at}
		if cur.Sync != nil {
			st.LastSuccessAt = cur.Sync.LastSuccessAt
		}
		if fetchErr != nil {
			st.LastError = fetchErr.Error()
		} else {
			if ch, err = userinfo.Apply(ctx, tx, username, iam, info, userinfo.ApplyOptions{Now: at, FoldTrinoNames: s.foldTrinoNames}); err != nil {
				return err
			}
			st.LastSuccessAt = &at
			if len(ch.Problems) > 0 {
				st.LastError = "applied, except: " + strings.Join(ch.Problems, "; ")
			}
			if ch.Changed() {
				for _, g := range ch.GroupsCreated {
					recs = append(recs, record(audit.GroupCreate, groupTarget(g),
						map[string]any{"description": "Created by the user-info sync of identity provider " + iam.ID, "iam": iam.ID}))
				}
				// "groups" names the groups whose members changed, which the
				// directory mirror refreshes (see authz.Directory.Apply).
				recs = append(recs, record(audit.UserSync, userTarget(username), struct {
					userinfo.Changes
					Groups []string `json:"groups,omitempty"`
				}{ch, ch.Groups()}))
			}
		}
		if err := tx.SetSyncState(ctx, username, st); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, actor, at, recs); err != nil {
			return err
		}
		out, err = tx.GetUser(ctx, username)
		return err
	})
	if errors.Is(err, errMigrated) {
		return u, directory.Unavailable("user %q moved to another identity provider during the sync; sync again", username)
	}
	if err != nil {
		return directory.User{}, err
	}
	s.committed(ctx, recs)

	result := userinfo.ResultSuccess
	switch {
	case fetchErr != nil:
		result = userinfo.ResultError
		s.log.Warn("user-info sync failed; the user keeps what they had", "user", username, "iam", iam.ID, "err", fetchErr)
	case len(ch.Problems) > 0:
		result = userinfo.ResultPartial
		s.log.Warn("user-info sync applied with problems", "user", username, "iam", iam.ID, "problems", ch.Problems)
	}
	s.userinfo.Metrics().Synced(iam.ID, result, ch, at)
	if fetchErr != nil {
		return out, directory.Unavailable("sync of %q from identity provider %q failed: %v", username, iam.ID, fetchErr)
	}
	return out, nil
}

// dropIAMDetails removes the memberships and attribute values an IAM owns
// of u: a user migrated to an identity provider without an endpoint keeps
// no claims of the one they left, as no sync will ever revise them. It
// returns the changes for the migration's audit record.
func dropIAMDetails(ctx context.Context, tx store.Tx, u *directory.User) (map[string]any, error) {
	if u.Sync == nil || len(u.Sync.Groups)+len(u.Sync.Attributes) == 0 {
		return nil, nil
	}
	for _, g := range u.Sync.Groups {
		if err := tx.RemoveIAMMember(ctx, g, u.Email); err != nil {
			return nil, err
		}
	}
	for name, vs := range u.Sync.Attributes {
		for _, v := range vs {
			if err := tx.RemoveIAMUserAttribute(ctx, u.Email, name, v); err != nil {
				return nil, err
			}
		}
	}
	return map[string]any{"groupsRemoved": u.Sync.Groups, "attributesRemoved": u.Sync.Attributes,
		"groups": u.Sync.Groups}, nil
}
