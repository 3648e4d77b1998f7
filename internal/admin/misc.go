package admin

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// redactIAM hides the user-info password: APIs never return it.
func redactIAM(i directory.IAM) directory.IAM {
	if i.UserInfo != nil && i.UserInfo.Password != "" {
		ui := *i.UserInfo
		ui.Password = ""
		i.UserInfo = &ui
	}
	return i
}

// CreateIAM adds an identity provider; ErrConflict if the id is taken.
func (s *Service) CreateIAM(ctx context.Context, p Principal, i directory.IAM) (directory.IAM, error) {
	return s.saveIAM(ctx, p, i, true)
}

// PutIAM creates or replaces an identity provider. A user-info endpoint
// given without a password keeps the stored one when its username is
// and URI unchanged, since APIs never return it for the caller to send back.
func (s *Service) PutIAM(ctx context.Context, p Principal, i directory.IAM) (directory.IAM, error) {
	return s.saveIAM(ctx, p, i, false)
}

func (s *Service) saveIAM(ctx context.Context, p Principal, i directory.IAM, create bool) (directory.IAM, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.IAM{}, err
	}
	i.CreatedAt, i.UpdatedAt = time.Time{}, time.Time{}
	if err := i.Validate(); err != nil {
		return directory.IAM{}, err
	}
	// An endpoint that cannot be used would only fail every sync later:
	// refuse it now, naming the setting (unreachable URI, unreadable or
	// mismatched PEM files, an untrusted certificate).
	if i.UserInfo != nil {
		if err := s.userinfo.Check(ctx, *i.UserInfo); err != nil {
			return directory.IAM{}, err
		}
	}
	var out directory.IAM
	err := s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		cur, err := tx.GetIAM(ctx, i.ID)
		switch {
		case errors.Is(err, directory.ErrNotFound):
			i.CreatedAt = now
		case err != nil:
			return nil, err
		case create:
			return nil, directory.Conflict("identity provider", i.ID)
		default:
			i.CreatedAt = cur.CreatedAt
			// Keep the stored password only for the same endpoint and user:
			// otherwise an edit could send it to a server of the editor's choosing.
			if i.UserInfo != nil && i.UserInfo.Password == "" && cur.UserInfo != nil &&
				cur.UserInfo.Username == i.UserInfo.Username && cur.UserInfo.URI == i.UserInfo.URI {
				i.UserInfo.Password = cur.UserInfo.Password
			}
		}
		i.UpdatedAt = now
		if err := tx.PutIAM(ctx, i); err != nil {
			return nil, err
		}
		out = redactIAM(i)
		return []audit.Record{record(audit.IAMPut, "iam:"+i.ID, out)}, nil
	})
	return out, err
}

// GetIAM returns one identity provider.
func (s *Service) GetIAM(ctx context.Context, p Principal, id string) (directory.IAM, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return directory.IAM{}, err
	}
	var out directory.IAM
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.GetIAM(ctx, id)
		return err
	})
	return redactIAM(out), err
}

// ListIAMs lists identity providers.
func (s *Service) ListIAMs(ctx context.Context, p Principal) ([]directory.IAM, error) {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return nil, err
	}
	var out []directory.IAM
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.ListIAMs(ctx)
		return err
	})
	for i := range out {
		out[i] = redactIAM(out[i])
	}
	return out, err
}

// DeleteIAM removes an identity provider nobody belongs to. The built-in one stays.
func (s *Service) DeleteIAM(ctx context.Context, p Principal, id string) error {
	if err := require(p, directory.PermUserAdmin); err != nil {
		return err
	}
	if id == directory.BuiltinIAM {
		return directory.Invalid("id", "the built-in identity provider %q cannot be deleted", id)
	}
	return s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		if err := tx.DeleteIAM(ctx, id); err != nil {
			return nil, err
		}
		return []audit.Record{record(audit.IAMDelete, "iam:"+id, nil)}, nil
	})
}

// CreateToken mints a bearer token for username and returns its secret,
// which is shown this once and stored only as a hash. Only USER_ADMIN mints:
// letting users mint their own would let a short-lived token beget an
// everlasting one. A zero ttl never expires.
func (s *Service) CreateToken(ctx context.Context, p Principal, username, description string, ttl time.Duration) (string, directory.Token, error) {
	username = directory.NormalizeUsername(username)
	if err := require(p, directory.PermUserAdmin); err != nil {
		return "", directory.Token{}, err
	}
	if err := directory.ValidateText("description", description, directory.MaxNameLen, false); err != nil {
		return "", directory.Token{}, err
	}
	if ttl < 0 {
		return "", directory.Token{}, directory.Invalid("ttl", "ttl must not be negative")
	}
	secret, err := newSecret()
	if err != nil {
		return "", directory.Token{}, err
	}
	id, err := newID("tok_")
	if err != nil {
		return "", directory.Token{}, err
	}
	t := directory.Token{ID: id, Username: username, Description: description, Hash: HashToken(secret)}
	err = s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		if _, err := tx.GetUser(ctx, username); err != nil {
			return nil, err
		}
		t.CreatedAt = now
		if ttl > 0 {
			exp := now.Add(ttl)
			t.ExpiresAt = &exp
		}
		if err := tx.CreateToken(ctx, t); err != nil {
			return nil, err
		}
		return []audit.Record{record(audit.TokenCreate, userTarget(username), map[string]any{"tokenId": id, "description": description})}, nil
	})
	if err != nil {
		return "", directory.Token{}, err
	}
	return secret, t, nil
}

// ListTokens lists a user's tokens (never their secrets).
func (s *Service) ListTokens(ctx context.Context, p Principal, username string) ([]directory.Token, error) {
	username = directory.NormalizeUsername(username)
	if username != p.Username {
		if err := require(p, directory.PermUserAdmin); err != nil {
			return nil, err
		}
	}
	var out []directory.Token
	err := s.store.View(ctx, func(r store.Reader) error {
		if _, err := r.GetUser(ctx, username); err != nil {
			return err
		}
		var err error
		out, err = r.ListTokens(ctx, username)
		return err
	})
	return out, err
}

// DeleteToken revokes one of username's tokens.
func (s *Service) DeleteToken(ctx context.Context, p Principal, username, id string) error {
	username = directory.NormalizeUsername(username)
	if username != p.Username {
		if err := require(p, directory.PermUserAdmin); err != nil {
			return err
		}
	}
	return s.write(ctx, p, func(tx store.Tx, now time.Time) ([]audit.Record, error) {
		toks, err := tx.ListTokens(ctx, username)
		if err != nil {
			return nil, err
		}
		for _, t := range toks {
			if t.ID == id {
				if err := tx.DeleteToken(ctx, id); err != nil {
					return nil, err
				}
				return []audit.Record{record(audit.TokenDelete, userTarget(username), map[string]any{"tokenId": id})}, nil
			}
		}
		return nil, directory.NotFound("token", id)
	})
}

// ListAudit returns audit records, newest first. Needs AUDIT or USER_ADMIN.
func (s *Service) ListAudit(ctx context.Context, p Principal, q audit.Query) ([]audit.Record, error) {
	if err := require(p, directory.PermAudit, directory.PermUserAdmin); err != nil {
		return nil, err
	}
	if q.Limit < 0 || q.Limit > 1000 {
		return nil, directory.Invalid("limit", "limit must be between 1 and 1000")
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	var out []audit.Record
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.ListAudit(ctx, q)
		return err
	})
	return out, err
}

// ReloadPolicies recompiles the policy bundle now (GOVERNANCE). A bundle that
// fails to compile is rejected and the current one keeps serving; the error
// says why.
func (s *Service) ReloadPolicies(ctx context.Context, p Principal) error {
	if err := require(p, directory.PermGovernance); err != nil {
		return err
	}
	if s.reloadPolicies == nil {
		return errors.New("this server has no policy engine")
	}
	err := s.reloadPolicies(ctx)
	result := "success"
	if err != nil {
		result = "rejected"
	}
	// The reload is audited whatever its outcome; it changes no directory data.
	rec := record(audit.PolicyReload, "policies", map[string]any{"result": result})
	rec.Time, rec.Actor, rec.RequestID = s.now().UTC(), p.Username, RequestID(ctx)
	if aerr := s.store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.AppendAudit(ctx, rec)
		return err
	}); aerr != nil {
		return aerr
	}
	if serr := s.sink.Write(rec); serr != nil {
		s.log.Warn("audit sink write failed", "err", serr, "type", rec.Type)
	}
	var bad *policy.BundleError
	if errors.As(err, &bad) {
		// The author's bundle does not load: say why, it is theirs to fix.
		return directory.Invalid("policies", "policy bundle rejected, the previous one keeps serving: %v", bad)
	}
	return err
}
