package storetest

import (
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, name := range []string{"analysts", "b-team", "a-team"} {
		update(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, newGroup(name)) })
	}
	equalJSON(t, "GetGroup", getGroup(t, s, "analysts"), wantGroup(newGroup("analysts")))
	groups := read(t, s, func(r store.Reader) ([]directory.Group, error) { return r.ListGroups(ctx) })
	equalJSON(t, "ListGroups", groups, []directory.Group{
		wantGroup(newGroup("a-team")), wantGroup(newGroup("analysts")), wantGroup(newGroup("b-team")),
	})

	err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateGroup(ctx, newGroup("analysts")) })
	wantErr(t, err, directory.ErrConflict, `group "analysts" already exists`)

	// UpdateGroup rewrites description, email and updated time only.
	changed := directory.Group{Name: "analysts", Description: "new", Email: "new@x.io", CreatedAt: t1, UpdatedAt: t1}
	update(t, s, func(tx store.Tx) error { return tx.UpdateGroup(ctx, changed) })
	want := wantGroup(changed)
	want.CreatedAt = stored(t0)
	equalJSON(t, "GetGroup after UpdateGroup", getGroup(t, s, "analysts"), want)

	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(ctx, "analysts") })
	err = viewErr(t, s, func(r store.Reader) (directory.Group, error) { return r.GetGroup(ctx, "analysts") })
	wantErr(t, err, directory.ErrNotFound, `group "analysts" not found`)
	groups = read(t, s, func(r store.Reader) ([]directory.Group, error) { return r.ListGroups(ctx) })
	if len(groups) != 2 {
		t.Errorf("ListGroups after delete has %d groups, want 2", len(groups))
	}

	errs := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"update missing", func(tx store.Tx) error { return tx.UpdateGroup(ctx, newGroup("analysts")) }},
		{"delete missing", func(tx store.Tx) error { return tx.DeleteGroup(ctx, "analysts") }},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.Update(ctx, tc.fn), directory.ErrNotFound, `group "analysts" not found`)
		})
	}
}

func testMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		for _, name := range []string{"alice@x.io", "bob@x.io"} {
			if err := tx.CreateUser(ctx, newUser(name)); err != nil {
				return err
			}
		}
		for _, g := range []string{"zeta", "analysts"} {
			if err := tx.CreateGroup(ctx, newGroup(g)); err != nil {
				return err
			}
		}
		return nil
	})
	add := func(group, user string) (bool, error) {
		var added bool
		err := s.Update(ctx, func(tx store.Tx) error {
			var err error
			added, err = tx.AddMember(ctx, group, user)
			return err
		})
		return added, err
	}
	for _, step := range []struct {
		group, user string
		want        bool
	}{
		{"zeta", "alice@x.io", true},
		{"analysts", "bob@x.io", true},
		{"analysts", "Alice@X.io", true},
		{"analysts", "alice@x.io", false},
	} {
		if added, err := add(step.group, step.user); err != nil || added != step.want {
			t.Errorf("AddMember(%s, %s) = %v, %v; want %v, nil", step.group, step.user, added, err, step.want)
		}
	}
	equalJSON(t, "members, sorted", getGroup(t, s, "analysts").Members, []string{"alice@x.io", "bob@x.io"})
	equalJSON(t, "alice's groups, sorted", getUser(t, s, "alice@x.io").Groups, []string{"analysts", "zeta"})

	_, err := add("nogroup", "alice@x.io")
	wantErr(t, err, directory.ErrNotFound, `group "nogroup" not found`)
	_, err = add("analysts", "nobody@x.io")
	wantErr(t, err, directory.ErrNotFound, `user "nobody@x.io" not found`)

	update(t, s, func(tx store.Tx) error { return tx.RemoveMember(ctx, "analysts", "BOB@x.io") })
	equalJSON(t, "members after removal", getGroup(t, s, "analysts").Members, []string{"alice@x.io"})
	equalJSON(t, "bob's groups", getUser(t, s, "bob@x.io").Groups, []string{})
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RemoveMember(ctx, "analysts", "bob@x.io") })
	wantErr(t, err, directory.ErrNotFound, `user "bob@x.io" is not a member of group "analysts"`)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RemoveMember(ctx, "nogroup", "bob@x.io") })
	wantErr(t, err, directory.ErrNotFound, `group "nogroup" not found`)

	// Deleting a group ends its memberships; a new group of that name is empty.
	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(ctx, "zeta") })
	equalJSON(t, "alice's groups after group delete", getUser(t, s, "alice@x.io").Groups, []string{"analysts"})
	update(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, newGroup("zeta")) })
	equalJSON(t, "re-created group", getGroup(t, s, "zeta"), wantGroup(newGroup("zeta")))
}

func testGroupAttributes(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error { return tx.CreateGroup(ctx, newGroup("analysts")) })
	for _, step := range []struct {
		name, value string
		want        bool
	}{
		{"region", "EMEA", true},
		{"region", "EMEA", false},
		{"region", "APAC", true},
		{"cost-center", "42", true},
	} {
		var added bool
		update(t, s, func(tx store.Tx) error {
			var err error
			added, err = tx.AddGroupAttribute(ctx, "analysts", step.name, step.value)
			return err
		})
		if added != step.want {
			t.Errorf("AddGroupAttribute(%s, %s) = %v, want %v", step.name, step.value, added, step.want)
		}
	}
	equalJSON(t, "group attributes", getGroup(t, s, "analysts").Attributes,
		directory.Attributes{"cost-center": {"42"}, "region": {"APAC", "EMEA"}})

	update(t, s, func(tx store.Tx) error { return tx.RemoveGroupAttribute(ctx, "analysts", "region", "APAC") })
	update(t, s, func(tx store.Tx) error { return tx.RemoveGroupAttribute(ctx, "analysts", "cost-center", "") })
	equalJSON(t, "group attributes after removal", getGroup(t, s, "analysts").Attributes,
		directory.Attributes{"region": {"EMEA"}})

	errs := []struct {
		name, msg string
		fn        func(tx store.Tx) error
	}{
		{"remove absent value", `group "analysts" has no attribute "region" with value "APAC"`,
			func(tx store.Tx) error { return tx.RemoveGroupAttribute(ctx, "analysts", "region", "APAC") }},
		{"remove absent name", `group "analysts" has no attribute "cost-center"`,
			func(tx store.Tx) error { return tx.RemoveGroupAttribute(ctx, "analysts", "cost-center", "") }},
		{"add to missing group", `group "nogroup" not found`, func(tx store.Tx) error {
			_, err := tx.AddGroupAttribute(ctx, "nogroup", "region", "EMEA")
			return err
		}},
		{"remove from missing group", `group "nogroup" not found`,
			func(tx store.Tx) error { return tx.RemoveGroupAttribute(ctx, "nogroup", "region", "") }},
	}
	for _, tc := range errs {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			wantErr(t, s.Update(ctx, tc.fn), directory.ErrNotFound, tc.msg)
		})
	}

	// The attributes go with the group.
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteGroup(ctx, "analysts"); err != nil {
			return err
		}
		return tx.CreateGroup(ctx, newGroup("analysts"))
	})
	equalJSON(t, "re-created group's attributes", getGroup(t, s, "analysts").Attributes, directory.Attributes{})
}
