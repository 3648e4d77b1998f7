package sqlstore

import (
	"context"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

const tokenSelect = "SELECT id, username, description, hash, created_at, expires_at FROM tokens"

// TokenByHash implements store.Reader. Its ErrNotFound never repeats the
// hash: what leads to a secret stays out of messages and logs.
func (r *reader) TokenByHash(ctx context.Context, hash string) (directory.Token, error) {
	tokens, err := r.loadTokens(ctx, " WHERE hash = ?", hash)
	if err != nil {
		return directory.Token{}, err
	}
	if len(tokens) == 0 {
		return directory.Token{}, notFound("token not found")
	}
	return tokens[0], nil
}

// ListTokens implements store.Reader: the user's tokens, oldest first;
// ErrNotFound if the user does not exist.
func (r *reader) ListTokens(ctx context.Context, username string) ([]directory.Token, error) {
	name := directory.NormalizeUsername(username)
	if err := r.requireUser(ctx, name); err != nil {
		return nil, err
	}
	return r.loadTokens(ctx, " WHERE username = ? ORDER BY created_at, id", name)
}

func (r *reader) loadTokens(ctx context.Context, clause string, args ...any) ([]directory.Token, error) {
	tokens := []directory.Token{}
	var tok directory.Token
	var expiresAt time.Time
	expires := scanTime(&expiresAt)
	err := r.each(ctx, "list tokens", tokenSelect+clause, args,
		[]any{&tok.ID, &tok.Username, &tok.Description, &tok.Hash, scanTime(&tok.CreatedAt), expires},
		func() error {
			tok.ExpiresAt = nil
			if expires.valid {
				tok.ExpiresAt = new(expiresAt)
			}
			tokens = append(tokens, tok)
			return nil
		})
	return tokens, err
}

// CreateToken implements store.Tx: ErrNotFound if the user is missing,
// ErrConflict if the id or the hash is taken.
func (t *tx) CreateToken(ctx context.Context, tok directory.Token) error {
	user := directory.NormalizeUsername(tok.Username)
	if err := t.requireUser(ctx, user); err != nil {
		return err
	}
	n, err := t.execCount(ctx, "create token", nil,
		"INSERT INTO tokens (id, username, description, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		tok.ID, user, tok.Description, tok.Hash, t.d.time(tok.CreatedAt), t.d.optTime(tok.ExpiresAt))
	if err != nil || n > 0 {
		return err
	}
	idTaken, err := t.exists(ctx, "SELECT 1 FROM tokens WHERE id = ?", tok.ID)
	if err != nil {
		return t.fail("find token", err)
	}
	if idTaken {
		return directory.Conflict("token", tok.ID)
	}
	return conflict("another token has the same secret")
}

// DeleteToken implements store.Tx.
func (t *tx) DeleteToken(ctx context.Context, id string) error {
	n, err := t.execCount(ctx, "delete token", nil, "DELETE FROM tokens WHERE id = ?", id)
	if err == nil && n == 0 {
		err = directory.NotFound("token", id)
	}
	return err
}
