package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func testIAMs(t *testing.T, s store.Store) {
	ctx := t.Context()
	err := viewErr(t, s, func(r store.Reader) (directory.IAM, error) { return r.GetIAM(ctx, "corp") })
	wantErr(t, err, directory.ErrNotFound, `iam "corp" not found`)

	corp := directory.IAM{
		ID: "corp", DisplayName: "Corporate SSO",
		UserInfo: &directory.UserInfoEndpoint{
			URI: "https://idp.example.com/userinfo", Username: "svc", Password: "s3cret",
			CAFile: "/etc/ca.pem", CertFile: "/etc/c.pem", KeyFile: "/etc/k.pem",
		},
		ProfileMapping: map[string]string{"trino": "uid", "github": "gh_login"},
		CreatedAt:      t0, UpdatedAt: t0,
	}
	bim := directory.IAM{ID: directory.BuiltinIAM, DisplayName: "Built-in", CreatedAt: t0, UpdatedAt: t0}
	// Listed after corp: it must not inherit corp's endpoint or mapping.
	zeta := directory.IAM{ID: "zeta", DisplayName: "Zeta", CreatedAt: t0, UpdatedAt: t0}
	update(t, s, func(tx store.Tx) error {
		for _, i := range []directory.IAM{corp, bim, zeta} {
			if err := tx.PutIAM(ctx, i); err != nil {
				return err
			}
		}
		return nil
	})
	want := func(i directory.IAM) directory.IAM {
		i.CreatedAt, i.UpdatedAt = stored(i.CreatedAt), stored(i.UpdatedAt)
		return i
	}
	got := read(t, s, func(r store.Reader) (directory.IAM, error) { return r.GetIAM(ctx, "corp") })
	equalJSON(t, "GetIAM", got, want(corp))
	got = read(t, s, func(r store.Reader) (directory.IAM, error) { return r.GetIAM(ctx, directory.BuiltinIAM) })
	if got.UserInfo != nil || got.ProfileMapping != nil {
		t.Errorf("IAM without endpoint or mapping came back with %+v, %v", got.UserInfo, got.ProfileMapping)
	}
	list := read(t, s, func(r store.Reader) ([]directory.IAM, error) { return r.ListIAMs(ctx) })
	equalJSON(t, "ListIAMs", list, []directory.IAM{want(bim), want(corp), want(zeta)})

	// Replacing keeps the creation time and drops what the new one lacks.
	replaced := directory.IAM{ID: "corp", DisplayName: "Corp", CreatedAt: t1, UpdatedAt: t1}
	update(t, s, func(tx store.Tx) error { return tx.PutIAM(ctx, replaced) })
	wantReplaced := want(replaced)
	wantReplaced.CreatedAt = stored(t0)
	got = read(t, s, func(r store.Reader) (directory.IAM, error) { return r.GetIAM(ctx, "corp") })
	equalJSON(t, "replaced IAM", got, wantReplaced)

	// An IAM cannot go while users belong to it.
	u := newUser("alice@x.io")
	u.IAM = "corp"
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, u) })
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteIAM(ctx, "corp") })
	wantErr(t, err, directory.ErrConflict, `iam "corp" still has 1 user(s)`)
	u.IAM = directory.BuiltinIAM
	update(t, s, func(tx store.Tx) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.DeleteIAM(ctx, "corp")
	})
	err = viewErr(t, s, func(r store.Reader) (directory.IAM, error) { return r.GetIAM(ctx, "corp") })
	wantErr(t, err, directory.ErrNotFound, `iam "corp" not found`)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteIAM(ctx, "corp") })
	wantErr(t, err, directory.ErrNotFound, `iam "corp" not found`)
}
