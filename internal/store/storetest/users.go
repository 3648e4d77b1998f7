package storetest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := newUser("Alice@Example.com")
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, alice) })

	// Stored lower-cased, found whatever the case, with empty details that
	// the API shows as [] and {}.
	for _, name := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.com"} {
		got := getUser(t, s, name)
		equalJSON(t, "GetUser("+name+")", got, wantUser(alice))
	}
	b, _ := json.Marshal(getUser(t, s, "alice@example.com"))
	for _, empty := range []string{`"permissions":[]`, `"groups":[]`, `"attributes":{}`, `"externalIds":{}`} {
		if !strings.Contains(string(b), empty) {
			t.Errorf("user JSON %s lacks %s", b, empty)
		}
	}

	err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(ctx, newUser("ALICE@example.COM")) })
	wantErr(t, err, directory.ErrConflict, `user "alice@example.com" already exists`)

	// UpdateUser rewrites the core fields, keeps the creation time and
	// leaves details alone.
	update(t, s, func(tx store.Tx) error {
		_, err := tx.GrantPermission(ctx, "alice@example.com", directory.PermAudit)
		return err
	})
	changed := directory.User{
		Email: "ALICE@example.com", FullName: "Alice Liddell", IAM: "corp", UserID: "u-1",
		Disabled: true, CreatedAt: t1, UpdatedAt: t1,
	}
	update(t, s, func(tx store.Tx) error { return tx.UpdateUser(ctx, changed) })
	want := wantUser(changed)
	want.CreatedAt = stored(alice.CreatedAt)
	want.Permissions = []directory.Permission{directory.PermAudit}
	equalJSON(t, "GetUser after UpdateUser", getUser(t, s, "alice@example.com"), want)

	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, newUser("bob@example.com")) })
	wantErr(t, err, directory.ErrNotFound, `user "bob@example.com" not found`)
	err = viewErr(t, s, func(r store.Reader) (directory.User, error) { return r.GetUser(ctx, "Bob@example.com") })
	wantErr(t, err, directory.ErrNotFound, `user "bob@example.com" not found`)
}

func testListUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	corp := newUser("b@x.io")
	corp.IAM = "corp"
	disabled := newUser("c@x.io")
	disabled.Disabled = true
	update(t, s, func(tx store.Tx) error {
		for _, u := range []directory.User{newUser("E@x.io"), newUser("a@x.io"), disabled, corp, newUser("d@x.io")} {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		// Details on both sides of the disabled user, and on it, so that a
		// page skipping it must not pick up its rows.
		for _, name := range []string{"b@x.io", "c@x.io", "d@x.io"} {
			if _, err := tx.GrantPermission(ctx, name, directory.PermGovernance); err != nil {
				return err
			}
			if _, err := tx.AddUserAttribute(ctx, name, "owner", name); err != nil {
				return err
			}
			if err := tx.SetExternalID(ctx, name, directory.PlatformTrino, "trino-"+name); err != nil {
				return err
			}
		}
		if err := tx.CreateGroup(ctx, newGroup("g")); err != nil {
			return err
		}
		_, err := tx.AddMember(ctx, "g", "c@x.io")
		return err
	})

	tests := []struct {
		name   string
		filter store.UserFilter
		want   []string
	}{
		{"active only", store.UserFilter{}, []string{"a@x.io", "b@x.io", "d@x.io", "e@x.io"}},
		{"include disabled", store.UserFilter{IncludeDisabled: true}, []string{"a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"}},
		{"by IAM", store.UserFilter{IAM: "corp"}, []string{"b@x.io"}},
		{"after", store.UserFilter{After: "b@x.io"}, []string{"d@x.io", "e@x.io"}},
		{"after, any case", store.UserFilter{After: "B@X.IO"}, []string{"d@x.io", "e@x.io"}},
		{"limit", store.UserFilter{Limit: 2}, []string{"a@x.io", "b@x.io"}},
		{"after and limit", store.UserFilter{IncludeDisabled: true, After: "a@x.io", Limit: 2}, []string{"b@x.io", "c@x.io"}},
		{"past the end", store.UserFilter{After: "z@x.io"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			users := read(t, s, func(r store.Reader) ([]directory.User, error) { return r.ListUsers(ctx, tc.filter) })
			names := []string{}
			for _, u := range users {
				names = append(names, u.Email)
				// A listed user carries exactly the details GetUser gives.
				equalJSON(t, "listed "+u.Email, u, getUser(t, s, u.Email))
			}
			equalJSON(t, "usernames", names, tc.want)
		})
	}

	// Paging one at a time visits every user once, in order.
	var paged []string
	for after := ""; len(paged) <= 5; { // bounded, should the cursor not advance
		page := read(t, s, func(r store.Reader) ([]directory.User, error) {
			return r.ListUsers(ctx, store.UserFilter{IncludeDisabled: true, After: after, Limit: 1})
		})
		if len(page) == 0 {
			break
		}
		after = page[0].Email
		paged = append(paged, after)
	}
	equalJSON(t, "paged usernames", paged, []string{"a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io"})
}

func testPermissions(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, newUser("alice@x.io")) })

	grant := func(name string, p directory.Permission) (bool, error) {
		var added bool
		err := s.Update(ctx, func(tx store.Tx) error {
			var err error
			added, err = tx.GrantPermission(ctx, name, p)
			return err
		})
		return added, err
	}
	for _, step := range []struct {
		p    directory.Permission
		want bool
	}{
		{directory.PermAudit, true},
		{directory.PermAudit, false},
		{directory.PermImpersonateUser, true},
		{directory.PermUserAdmin, true},
	} {
		added, err := grant("ALICE@x.io", step.p)
		if err != nil || added != step.want {
			t.Errorf("GrantPermission(%s) = %v, %v; want %v, nil", step.p, added, err, step.want)
		}
	}
	got := getUser(t, s, "alice@x.io")
	equalJSON(t, "permissions in directory order", got.Permissions,
		[]directory.Permission{directory.PermUserAdmin, directory.PermImpersonateUser, directory.PermAudit})
	if !got.HasPermission(directory.PermImpersonateUser) {
		t.Error("HasPermission(IMPERSONATE_USER) = false")
	}

	update(t, s, func(tx store.Tx) error { return tx.RevokePermission(ctx, "Alice@x.io", directory.PermImpersonateUser) })
	equalJSON(t, "permissions after revoke", getUser(t, s, "alice@x.io").Permissions,
		[]directory.Permission{directory.PermUserAdmin, directory.PermAudit})

	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.RevokePermission(ctx, "alice@x.io", directory.PermImpersonateUser)
	})
	wantErr(t, err, directory.ErrNotFound, `"alice@x.io" does not hold permission IMPERSONATE_USER`)
	_, err = grant("nobody@x.io", directory.PermAudit)
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RevokePermission(ctx, "nobody@x.io", directory.PermAudit) })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)
}

func testUserAttributes(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(ctx, newUser("alice@x.io")) })
	for _, step := range []struct {
		name, value string
		want        bool
	}{
		{"region", "EMEA", true},
		{"region", "EMEA", false},
		{"region", "APAC", true},
		{"team", "data", true},
	} {
		var added bool
		update(t, s, func(tx store.Tx) error {
			var err error
			added, err = tx.AddUserAttribute(ctx, "Alice@x.io", step.name, step.value)
			return err
		})
		if added != step.want {
			t.Errorf("AddUserAttribute(%s, %s) = %v, want %v", step.name, step.value, added, step.want)
		}
	}
	equalJSON(t, "attributes", getUser(t, s, "alice@x.io").Attributes,
		directory.Attributes{"region": {"APAC", "EMEA"}, "team": {"data"}})

	update(t, s, func(tx store.Tx) error { return tx.RemoveUserAttribute(ctx, "alice@x.io", "region", "EMEA") })
	update(t, s, func(tx store.Tx) error { return tx.RemoveUserAttribute(ctx, "alice@x.io", "team", "") })
	equalJSON(t, "attributes after removal", getUser(t, s, "alice@x.io").Attributes,
		directory.Attributes{"region": {"APAC"}})

	errs := []struct {
		name string
		fn   func(tx store.Tx) error
		kind error
		msg  string
	}{
		{"remove absent value", func(tx store.Tx) error { return tx.RemoveUserAttribute(ctx, "alice@x.io", "region", "EMEA") },
			directory.ErrNotFound, `user "alice@x.io" has no attribute "region" with value "EMEA"`},
		{"remove absent name", func(tx store.Tx) error { return tx.RemoveUserAttribute(ctx, "alice@x.io", "team", "") },
			directory.ErrNotFound, `user "alice@x.io" has no attribute "team"`},
		{"add to missing user", func(tx store.Tx) error {
			_, err := tx.AddUserAttribute(ctx, "nobody@x.io", "region", "EMEA")
			return err
		}, directory.ErrNotFound, `user "nobody@x.io" not found`},
		{"remove from missing user", func(tx store.Tx) error { return tx.RemoveUserAttribute(ctx, "nobody@x.io", "region", "") },
			directory.ErrNotFound, `user "nobody@x.io" not found`},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, s.Update(ctx, tc.fn), tc.kind, tc.msg) })
	}
}

func testExternalIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	trino := directory.PlatformTrino
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, newUser("alice@x.io")); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, newUser("bob@x.io")); err != nil {
			return err
		}
		return tx.SetExternalID(ctx, "Alice@x.io", trino, "alice")
	})
	byExt := func(platform, name string) (directory.User, error) {
		var u directory.User
		err := s.View(ctx, func(r store.Reader) error {
			var err error
			u, err = r.UserByExternalID(ctx, platform, name)
			return err
		})
		return u, err
	}
	if u, err := byExt(trino, "alice"); err != nil || u.Email != "alice@x.io" {
		t.Errorf("UserByExternalID(trino, alice) = %q, %v", u.Email, err)
	}
	equalJSON(t, "external ids", getUser(t, s, "alice@x.io").ExternalIDs, map[string]string{"trino": "alice"})

	// Setting again is a no-op; a new name replaces the old one.
	update(t, s, func(tx store.Tx) error { return tx.SetExternalID(ctx, "alice@x.io", trino, "alice") })
	update(t, s, func(tx store.Tx) error { return tx.SetExternalID(ctx, "alice@x.io", trino, "alice2") })
	_, err := byExt(trino, "alice")
	wantErr(t, err, directory.ErrNotFound, `no user has trino name "alice"`)
	if u, err := byExt(trino, "alice2"); err != nil || u.Email != "alice@x.io" {
		t.Errorf("UserByExternalID(trino, alice2) = %q, %v", u.Email, err)
	}

	// A name is unique per platform, not across platforms.
	err = s.Update(ctx, func(tx store.Tx) error { return tx.SetExternalID(ctx, "bob@x.io", trino, "alice2") })
	wantErr(t, err, directory.ErrConflict, `trino name "alice2" is already mapped to user "alice@x.io"`)
	update(t, s, func(tx store.Tx) error { return tx.SetExternalID(ctx, "bob@x.io", "github", "alice2") })
	equalJSON(t, "bob's external ids", getUser(t, s, "bob@x.io").ExternalIDs, map[string]string{"github": "alice2"})

	update(t, s, func(tx store.Tx) error { return tx.DeleteExternalID(ctx, "ALICE@x.io", trino) })
	equalJSON(t, "external ids after delete", getUser(t, s, "alice@x.io").ExternalIDs, map[string]string{})
	_, err = byExt(trino, "alice2")
	wantErr(t, err, directory.ErrNotFound, `no user has trino name "alice2"`)

	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteExternalID(ctx, "alice@x.io", trino) })
	wantErr(t, err, directory.ErrNotFound, `user "alice@x.io" has no trino external id`)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteExternalID(ctx, "nobody@x.io", trino) })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.SetExternalID(ctx, "nobody@x.io", trino, "n") })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)
}

func testDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		for _, name := range []string{"alice@x.io", "bob@x.io"} {
			if err := tx.CreateUser(ctx, newUser(name)); err != nil {
				return err
			}
			if _, err := tx.GrantPermission(ctx, name, directory.PermAudit); err != nil {
				return err
			}
			if _, err := tx.AddUserAttribute(ctx, name, "region", "EMEA"); err != nil {
				return err
			}
			if err := tx.SetExternalID(ctx, name, directory.PlatformTrino, strings.TrimSuffix(name, "@x.io")); err != nil {
				return err
			}
			if err := tx.CreateToken(ctx, directory.Token{ID: "tok-" + name, Username: name, Hash: "hash-" + name, CreatedAt: t0}); err != nil {
				return err
			}
		}
		for _, g := range []string{"g1", "g2"} {
			if err := tx.CreateGroup(ctx, newGroup(g)); err != nil {
				return err
			}
			for _, name := range []string{"alice@x.io", "bob@x.io"} {
				if _, err := tx.AddMember(ctx, g, name); err != nil {
					return err
				}
			}
		}
		return nil
	})
	bob := getUser(t, s, "bob@x.io")

	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, "ALICE@x.io") })

	err := viewErr(t, s, func(r store.Reader) (directory.User, error) { return r.GetUser(ctx, "alice@x.io") })
	wantErr(t, err, directory.ErrNotFound, `user "alice@x.io" not found`)
	all := read(t, s, func(r store.Reader) ([]directory.User, error) {
		return r.ListUsers(ctx, store.UserFilter{IncludeDisabled: true})
	})
	if len(all) != 1 || all[0].Email != "bob@x.io" {
		t.Errorf("users after delete = %v, want only bob", all)
	}
	for _, g := range []string{"g1", "g2"} {
		equalJSON(t, g+" members", getGroup(t, s, g).Members, []string{"bob@x.io"})
	}
	err = viewErr(t, s, func(r store.Reader) (directory.User, error) {
		return r.UserByExternalID(ctx, directory.PlatformTrino, "alice")
	})
	wantErr(t, err, directory.ErrNotFound, `no user has trino name "alice"`)
	err = viewErr(t, s, func(r store.Reader) (directory.Token, error) { return r.TokenByHash(ctx, "hash-alice@x.io") })
	wantErr(t, err, directory.ErrNotFound, "token not found")
	err = viewErr(t, s, func(r store.Reader) ([]directory.Token, error) { return r.ListTokens(ctx, "alice@x.io") })
	wantErr(t, err, directory.ErrNotFound, `user "alice@x.io" not found`)
	equalJSON(t, "bob after alice's deletion", getUser(t, s, "bob@x.io"), bob)

	// A new user of the same name starts from nothing, and what the old one
	// held (its Trino name, its token id) is free again.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, newUser("alice@x.io")); err != nil {
			return err
		}
		if err := tx.SetExternalID(ctx, "bob@x.io", "other", "alice"); err != nil {
			return err
		}
		if err := tx.SetExternalID(ctx, "alice@x.io", directory.PlatformTrino, "alice"); err != nil {
			return err
		}
		return tx.CreateToken(ctx, directory.Token{ID: "tok-alice@x.io", Username: "alice@x.io", Hash: "new-hash", CreatedAt: t0})
	})
	want := wantUser(newUser("alice@x.io"))
	want.ExternalIDs = map[string]string{directory.PlatformTrino: "alice"}
	equalJSON(t, "re-created alice", getUser(t, s, "alice@x.io"), want)

	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, "nobody@x.io") })
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)
}
