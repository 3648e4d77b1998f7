package storetest

import (
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func testTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		for _, name := range []string{"alice@x.io", "bob@x.io", "carol@x.io"} {
			if err := tx.CreateUser(ctx, newUser(name)); err != nil {
				return err
			}
		}
		return nil
	})
	expires := t1.AddDate(1, 0, 0)
	// The expiring token lists first, so a scan reusing its row would show
	// the expiry on the next one.
	tok1 := directory.Token{ID: "t1", Username: "Alice@x.io", Description: "ci", Hash: "h1", CreatedAt: t0, ExpiresAt: &expires}
	tok2 := directory.Token{ID: "t2", Username: "alice@x.io", Description: "laptop", Hash: "h2", CreatedAt: t1}
	tok3 := directory.Token{ID: "t3", Username: "bob@x.io", Hash: "h3", CreatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		for _, tok := range []directory.Token{tok2, tok1, tok3} {
			if err := tx.CreateToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
	want := func(tok directory.Token) directory.Token {
		tok.Username = directory.NormalizeUsername(tok.Username)
		tok.CreatedAt = stored(tok.CreatedAt)
		if tok.ExpiresAt != nil {
			tok.ExpiresAt = new(stored(*tok.ExpiresAt))
		}
		return tok
	}
	checkTokens := func(what string, got, want []directory.Token) {
		t.Helper()
		equalJSON(t, what, got, want)
		for i := range min(len(got), len(want)) {
			if got[i].Hash != want[i].Hash { // not in the JSON
				t.Errorf("%s: token %s has hash %q, want %q", what, got[i].ID, got[i].Hash, want[i].Hash)
			}
		}
	}

	for _, tok := range []directory.Token{tok1, tok2} {
		got := read(t, s, func(r store.Reader) (directory.Token, error) { return r.TokenByHash(ctx, tok.Hash) })
		checkTokens("TokenByHash", []directory.Token{got}, []directory.Token{want(tok)})
	}
	list := read(t, s, func(r store.Reader) ([]directory.Token, error) { return r.ListTokens(ctx, "ALICE@x.io") })
	checkTokens("alice's tokens, oldest first", list, []directory.Token{want(tok1), want(tok2)})
	list = read(t, s, func(r store.Reader) ([]directory.Token, error) { return r.ListTokens(ctx, "carol@x.io") })
	equalJSON(t, "carol's tokens", list, []directory.Token{})

	err := viewErr(t, s, func(r store.Reader) (directory.Token, error) { return r.TokenByHash(ctx, "secret-hash") })
	wantErr(t, err, directory.ErrNotFound, "token not found")
	if err != nil && strings.Contains(err.Error(), "secret-hash") {
		t.Errorf("error %q repeats the hash", err)
	}
	err = viewErr(t, s, func(r store.Reader) ([]directory.Token, error) { return r.ListTokens(ctx, "nobody@x.io") })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)

	errs := []struct {
		name string
		tok  directory.Token
		kind error
		msg  string
	}{
		{"duplicate id", directory.Token{ID: "t1", Username: "bob@x.io", Hash: "h9", CreatedAt: t0}, directory.ErrConflict, `token "t1" already exists`},
		{"duplicate hash", directory.Token{ID: "t9", Username: "bob@x.io", Hash: "h1", CreatedAt: t0}, directory.ErrConflict, "another token has the same secret"},
		{"missing user", directory.Token{ID: "t9", Username: "nobody@x.io", Hash: "h9", CreatedAt: t0}, directory.ErrNotFound, `user "nobody@x.io" not found`},
	}
	for _, tc := range errs {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateToken(ctx, tc.tok) })
			wantErr(t, err, tc.kind, tc.msg)
			if err != nil && strings.Contains(err.Error(), tc.tok.Hash) {
				t.Errorf("error %q repeats the hash", err)
			}
		})
	}

	update(t, s, func(tx store.Tx) error { return tx.DeleteToken(ctx, "t1") })
	err = viewErr(t, s, func(r store.Reader) (directory.Token, error) { return r.TokenByHash(ctx, "h1") })
	wantErr(t, err, directory.ErrNotFound, "token not found")
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteToken(ctx, "t1") })
	wantErr(t, err, directory.ErrNotFound, `token "t1" not found`)
}
