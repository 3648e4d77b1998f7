// Package authz makes gatehouse's decisions: it keeps the directory snapshot
// that policies read as data.gatehouse in step with the store, evaluates the
// policy entry points for Trino's requests, checks the answers' shapes so a
// malformed policy result fails closed, and records decisions for audit.
package authz

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/gatehouse-authz/gatehouse/internal/arena"
	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Settings are the config-file settings policies read as data.gatehouse.settings.
type Settings struct {
	AllowedServiceUsers []string // may impersonate without IMPERSONATE_USER
	ImpersonationMode   string   // "session" or "strict"
	PolicyExemptUsers   []string // bypass data policies; never impersonate or are impersonated
	// CaseInsensitiveTrinoNames keys trinoUsers by lower-cased Trino name,
	// and policies look names up lower-cased (settings.trinoNameMatching).
	CaseInsensitiveTrinoNames bool
}

// Directory mirrors the store's directory into the policy engine's data
// under data.gatehouse: users, trinoUsers, groups, settings and revision.
type Directory struct {
	store    store.Store
	engine   *policy.Engine
	settings Settings

	mu      sync.Mutex        // serialises refreshes: each reads the store then writes the engine
	trinoOf map[string]string // username → the trinoUsers key of their Trino name
	log     *slog.Logger

	// idx is what the decision path asks of the directory without
	// evaluating policies: who a Trino name resolves to and whether the
	// user-info sync ever tried them. Refreshes hold mu and then idx.
	idx struct {
		sync.RWMutex
		owners   ownerIndex // trinoUsers key → usernames holding it
		users    map[string]userIndex
		syncable map[string]bool // IAM ids with a user-info endpoint
	}
	// anySyncable mirrors len(idx.syncable) > 0, so that directories without
	// user-info endpoints pay no lock on the decision path.
	anySyncable atomic.Bool

	// OnRevision, when set, is told the revision each refresh reflects.
	OnRevision func(int64)

	// stale is set when a committed write could not be mirrored: decisions
	// then fail closed until a full reload succeeds.
	stale atomic.Bool
}

// ErrStale is returned by Ready while the snapshot may lag the store.
var ErrStale = errors.New("directory snapshot is behind the store; decisions are refused until it is reloaded")

// Ready reports whether decisions may use the snapshot.
func (d *Directory) Ready() error {
	if d.stale.Load() {
		return ErrStale
	}
	return nil
}

// Sync is the admin service's commit hook: it mirrors the records' changes,
// and on failure marks the snapshot stale and tries a full reload.
func (d *Directory) Sync(ctx context.Context, recs []audit.Record) {
	if err := d.Apply(ctx, recs); err != nil {
		d.stale.Store(true)
		d.log.Error("directory snapshot update failed; reloading it whole", "err", err)
		if err := d.Load(context.WithoutCancel(ctx)); err != nil {
			d.log.Error("directory snapshot reload failed; decisions fail closed until it succeeds", "err", err)
		}
	}
}

// Run retries a full reload every interval while the snapshot is stale.
func (d *Directory) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if d.stale.Load() {
				if err := d.Load(ctx); err != nil {
					d.log.Error("directory snapshot reload failed", "err", err)
				}
			}
		}
	}
}

// NewDirectory returns a Directory; call Load before serving.
func NewDirectory(st store.Store, engine *policy.Engine, settings Settings, log *slog.Logger) *Directory {
	d := &Directory{store: st, engine: engine, settings: settings, trinoOf: map[string]string{}, log: log}
	d.idx.owners, d.idx.users, d.idx.syncable = newOwnerIndex(0), map[string]userIndex{}, map[string]bool{}
	return d
}

// userIndex is what the sync trigger needs to know of a user.
type userIndex struct {
	iam        string
	disabled   bool
	everSynced bool
}

// UnsyncedUser resolves a Trino name the way the policies do (its trino
// external id, else the lower-cased name as a username) and reports whether
// that user is active, belongs to an identity provider with a user-info
// endpoint and was never synced from it: a Trino user appearing who should
// be synced in the background. It only reads memory, under a read lock (none
// at all while no identity provider has an endpoint, when it returns ""), so
// the decision path may call it on every decision.
func (d *Directory) UnsyncedUser(trinoName string) (string, bool) {
	if !d.anySyncable.Load() {
		return "", false
	}
	d.idx.RLock()
	defer d.idx.RUnlock()
	username := strings.ToLower(trinoName)
	if holder, ok := d.idx.owners.holder(trinoKey(d.settings, trinoName)); ok {
		username = holder
	}
	u, ok := d.idx.users[username]
	return username, ok && !u.disabled && !u.everSynced && d.idx.syncable[u.iam]
}

// trinoKey is the trinoUsers key of a Trino name: the name, or with
// case-insensitive matching its lower-case form, which is how
// policies/directory.rego looks names up (_trino_key).
func trinoKey(st Settings, name string) string {
	if st.CaseInsensitiveTrinoNames {
		return strings.ToLower(name)
	}
	return name
}

func indexOf(u *directory.User) userIndex {
	return userIndex{iam: u.IAM, disabled: u.Disabled, everSynced: u.Sync != nil && u.Sync.LastSyncAt != nil}
}

func syncableIAMs(iams []directory.IAM) map[string]bool {
	out := map[string]bool{}
	for _, i := range iams {
		if i.UserInfo != nil {
			out[i.ID] = true
		}
	}
	return out
}

var (
	keyUsers      = ast.StringTerm("users")
	keyTrinoUsers = ast.StringTerm("trinoUsers")
	keyGroups     = ast.StringTerm("groups")
)

// Load writes the whole directory into the engine in one transaction.
func (d *Directory) Load(ctx context.Context) error {
	return d.LoadSnapshot(ctx, nil)
}

// ReadAhead is a directory snapshot read ahead of Load (ReadSnapshot), so
// that a server can read its directory while the policies compile.
type ReadAhead struct{ s fullSnapshot }

// ReadSnapshot reads and builds the snapshot of st as a Directory with these
// settings would.
func ReadSnapshot(ctx context.Context, st store.Store, settings Settings) (*ReadAhead, error) {
	s, err := snapshot(ctx, st, settings, true)
	if err != nil {
		return nil, err
	}
	return &ReadAhead{s}, nil
}

// LoadSnapshot is Load from a snapshot read ahead; one that no longer has the
// store's revision (something was written since), or nil, is read again.
func (d *Directory) LoadSnapshot(ctx context.Context, ahead *ReadAhead) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var snap fullSnapshot
	if ahead != nil {
		var rev int64
		if err := d.store.View(ctx, func(r store.Reader) (err error) { rev, err = r.Revision(ctx); return err }); err != nil {
			return err
		}
		if ahead.s.rev == rev {
			snap = ahead.s
		}
	}
	if snap.goRoot == nil {
		var err error
		if snap, err = snapshot(ctx, d.store, d.settings, true); err != nil {
			return err
		}
	}
	var err error
	d.trinoOf = snap.trinoOf
	d.idx.Lock()
	d.idx.owners, d.idx.users, d.idx.syncable = snap.owners, snap.users, snap.syncable
	d.anySyncable.Store(len(snap.syncable) > 0)
	d.idx.Unlock()
	for key, owners := range snap.owners.clash {
		d.log.Warn("several users have the same Trino name once case is ignored; it resolves to the first",
			"trinoName", key, "users", owners)
	}
	err = d.engine.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		return s.Write(ctx, txn, storage.AddOp, storage.Path{policy.DirectoryKey}, snap.goRoot)
	})
	if err == nil {
		d.stale.Store(false)
		d.published(snap.rev)
	}
	return err
}

func (d *Directory) published(rev int64) {
	if d.OnRevision != nil {
		d.OnRevision(rev)
	}
}

// Apply refreshes what the given committed audit records touched: the
// users and groups they name, and the members of groups they name. It reads
// the store afresh, so out-of-order calls still converge on the store's state.
func (d *Directory) Apply(ctx context.Context, recs []audit.Record) error {
	users := map[string]bool{}
	groups := map[string]bool{}
	iamsChanged := false
	for _, r := range recs {
		kind, name, _ := strings.Cut(r.Target, ":")
		switch kind {
		case "iam":
			// Only the sync trigger reads IAMs: which have an endpoint.
			iamsChanged = true
		case "user":
			users[name] = true
			// A deleted user leaves the groups named in the record.
			for _, g := range stringsIn(r, "groups") {
				groups[g] = true
			}
		case "group":
			groups[name] = true
			for _, m := range changedMembers(r) {
				users[m] = true
			}
		}
	}
	if len(users) == 0 && len(groups) == 0 && !iamsChanged {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	type userState struct {
		u     directory.User
		found bool
	}
	type groupState struct {
		g     directory.Group
		found bool
	}
	us := map[string]userState{}
	gs := map[string]groupState{}
	var rev int64
	var syncable map[string]bool
	err := d.store.View(ctx, func(r store.Reader) error {
		var err error
		if rev, err = r.Revision(ctx); err != nil {
			return err
		}
		if iamsChanged {
			iams, err := r.ListIAMs(ctx)
			if err != nil {
				return err
			}
			syncable = syncableIAMs(iams)
		}
		for name := range groups {
			g, err := r.GetGroup(ctx, name)
			if err != nil && !errors.Is(err, directory.ErrNotFound) {
				return err
			}
			gs[name] = groupState{g, err == nil}
			for _, m := range g.Members {
				users[m] = true
			}
		}
		for name := range users {
			u, err := r.GetUser(ctx, name)
			if err != nil && !errors.Is(err, directory.ErrNotFound) {
				return err
			}
			us[name] = userState{u, err == nil}
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer d.published(rev)

	// The indexes first, in memory and briefly locked; then the policy data.
	// Should the data write fail, Sync reloads everything, indexes included.
	// trinoUsers keys whose owner may have changed are collected and each
	// written once, after every user's move, so that a name passing from one
	// user to another in the same refresh ends up mapped to the new one.
	keys := map[string]string{} // key → username it maps to, "" to remove
	d.idx.Lock()
	if syncable != nil {
		d.idx.syncable = syncable
		d.anySyncable.Store(len(syncable) > 0)
	}
	for name, st := range us {
		if old, ok := d.trinoOf[name]; ok {
			d.idx.owners.drop(old, name)
			delete(d.trinoOf, name)
			keys[old] = ""
		}
		if !st.found {
			delete(d.idx.users, name)
			continue
		}
		d.idx.users[name] = indexOf(&st.u)
		if tn := trinoName(&st.u); tn != "" {
			key := trinoKey(d.settings, tn)
			d.idx.owners.add(key, name)
			d.trinoOf[name] = key
			keys[key] = ""
		}
	}
	for key := range keys {
		keys[key], _ = d.idx.owners.holder(key)
	}
	d.idx.Unlock()

	return d.engine.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		base := storage.Path{policy.DirectoryKey}
		for name, st := range us {
			if !st.found {
				if err := remove(ctx, s, txn, append(base, "users", name)); err != nil {
					return err
				}
				continue
			}
			if err := s.Write(ctx, txn, storage.AddOp, append(base, "users", name), userValue(&st.u)); err != nil {
				return err
			}
		}
		for key, owner := range keys {
			p := append(base, "trinoUsers", key)
			if owner == "" {
				if err := remove(ctx, s, txn, p); err != nil {
					return err
				}
				continue
			}
			if err := s.Write(ctx, txn, storage.AddOp, p, ast.String(owner)); err != nil {
				return err
			}
		}
		for name, st := range gs {
			p := append(base, "groups", name)
			if !st.found {
				if err := remove(ctx, s, txn, p); err != nil {
					return err
				}
				continue
			}
			if err := s.Write(ctx, txn, storage.AddOp, p, groupValue(&st.g)); err != nil {
				return err
			}
		}
		return s.Write(ctx, txn, storage.AddOp, append(base, "revision"), ast.IntNumberTerm(int(rev)).Value)
	})
}

func remove(ctx context.Context, s storage.Store, txn storage.Transaction, p storage.Path) error {
	if err := s.Write(ctx, txn, storage.RemoveOp, p, nil); err != nil && !storage.IsNotFound(err) {
		return err
	}
	return nil
}

// changedMembers reads the member names an audit record of a group write
// carries ("member" on add/remove, "members" on delete).
func changedMembers(r audit.Record) []string {
	return append(stringsIn(r, "member"), stringsIn(r, "members")...)
}

// stringsIn reads key of a record's changes as a string or array of strings.
func stringsIn(r audit.Record, key string) []string {
	if len(r.Changes) == 0 {
		return nil
	}
	v, err := ast.ValueFromReader(strings.NewReader(string(r.Changes)))
	if err != nil {
		return nil
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil
	}
	t := obj.Get(ast.StringTerm(key))
	if t == nil {
		return nil
	}
	var out []string
	switch x := t.Value.(type) {
	case ast.String:
		out = append(out, string(x))
	case *ast.Array:
		x.Foreach(func(t *ast.Term) {
			if s, ok := t.Value.(ast.String); ok {
				out = append(out, string(s))
			}
		})
	}
	return out
}

// trinoName is the Trino user name a user is known by, when mapped.
func trinoName(u *directory.User) string { return u.ExternalIDs[directory.PlatformTrino] }

// Building the directory's AST values. A directory of 100,000 users is by far
// the largest live structure of the process, and every garbage collection
// walks all of it: the keys every user shares ("email", "groups", ...) are one
// term each, booleans and empty lists are shared, and a snapshot interns the
// strings that repeat across users (group names, attribute values, emails in
// member lists). Terms are never modified once in the store: the mirror
// replaces whole users and groups, so sharing them is safe.
var (
	keyEmail       = ast.StringTerm("email")
	keyFullName    = ast.StringTerm("fullName")
	keyIAM         = ast.StringTerm("iam")
	keyUserID      = ast.StringTerm("userId")
	keyDisabled    = ast.StringTerm("disabled")
	keyPermissions = ast.StringTerm("permissions")
	keyGroupsField = ast.StringTerm("groups")
	keyAttributes  = ast.StringTerm("attributes")
	keyExternalIDs = ast.StringTerm("externalIds")
	keyDescription = ast.StringTerm("description")
	keyMembers     = ast.StringTerm("members")
	emptyArray     = ast.NewTerm(ast.NewArray())
)

// interner shares one term per distinct string; the zero value (or nil)
// makes a new term every time.
type interner struct{ m map[string]*ast.Term }

func newInterner() *interner { return &interner{m: map[string]*ast.Term{}} }

// name is s, or an equal string met before: each user row read from the
// store carries its own copy of its identity provider's id, and the index
// keeps one per user otherwise.
func (in *interner) name(s string) string {
	if t, ok := in.m[s]; ok {
		return string(t.Value.(ast.String))
	}
	in.m[s] = ast.StringTerm(s)
	return s
}

func (in *interner) str(s string) *ast.Term {
	if in == nil || in.m == nil {
		return ast.StringTerm(s)
	}
	if t, ok := in.m[s]; ok {
		return t
	}
	t := ast.StringTerm(s)
	in.m[s] = t
	return t
}

func (in *interner) array(ss []string) *ast.Term {
	if len(ss) == 0 {
		return emptyArray
	}
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = in.str(s)
	}
	return ast.NewTerm(ast.NewArray(terms...))
}

func stringsArray(ss []string) *ast.Array {
	return (*interner)(nil).array(ss).Value.(*ast.Array)
}

func (in *interner) attributes(a directory.Attributes) *ast.Term {
	items := make([][2]*ast.Term, 0, len(a))
	for k, vs := range a {
		items = append(items, ast.Item(in.str(k), in.array(vs)))
	}
	return ast.NewTerm(ast.NewObject(items...))
}

// userValue is a user as policies see it (architecture.md, "Directory → policy data").
func userValue(u *directory.User) ast.Object { return (*interner)(nil).user(u) }

func (in *interner) user(u *directory.User) ast.Object {
	perms := make([]string, len(u.Permissions))
	for i, p := range u.Permissions {
		perms[i] = string(p)
	}
	ext := make([][2]*ast.Term, 0, len(u.ExternalIDs))
	for k, v := range u.ExternalIDs {
		ext = append(ext, ast.Item(in.str(k), in.str(v)))
	}
	return ast.NewObject(
		ast.Item(keyEmail, in.str(u.Email)),
		ast.Item(keyFullName, in.str(u.FullName)),
		ast.Item(keyIAM, in.str(u.IAM)),
		ast.Item(keyUserID, in.str(u.UserID)),
		ast.Item(keyDisabled, ast.InternedTerm(u.Disabled)),
		ast.Item(keyPermissions, in.array(perms)),
		ast.Item(keyGroupsField, in.array(u.Groups)),
		ast.Item(keyAttributes, in.attributes(u.Attributes)),
		ast.Item(keyExternalIDs, ast.NewTerm(ast.NewObject(ext...))),
	)
}

func groupValue(g *directory.Group) ast.Object { return (*interner)(nil).group(g) }

func (in *interner) group(g *directory.Group) ast.Object {
	return ast.NewObject(
		ast.Item(keyDescription, in.str(g.Description)),
		ast.Item(keyEmail, in.str(g.Email)),
		ast.Item(keyMembers, in.array(g.Members)),
		ast.Item(keyAttributes, in.attributes(g.Attributes)),
	)
}

func settingsValue(st Settings) ast.Object {
	mode := st.ImpersonationMode
	if mode == "" {
		mode = "session"
	}
	matching := "case-sensitive"
	if st.CaseInsensitiveTrinoNames {
		matching = "case-insensitive"
	}
	return ast.NewObject(
		ast.Item(ast.StringTerm("trinoNameMatching"), ast.StringTerm(matching)),
		ast.Item(ast.StringTerm("impersonation"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("allowedServiceUsers"), ast.NewTerm(stringsArray(nonNil(st.AllowedServiceUsers)))),
			ast.Item(ast.StringTerm("mode"), ast.StringTerm(mode)),
		)),
		ast.Item(ast.StringTerm("policyExemptUsers"), ast.NewTerm(stringsArray(nonNil(st.PolicyExemptUsers)))),
	)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Snapshot reads the whole directory from st as the value policies see at
// data.gatehouse, with the revision it reflects and each user's Trino name.
// `gatehouse data export` writes it for stock OPA.
func Snapshot(ctx context.Context, st store.Store, settings Settings) (ast.Object, int64, map[string]string, error) {
	snap, err := snapshot(ctx, st, settings, false)
	if err != nil {
		return nil, 0, nil, err
	}
	return snap.root, snap.rev, snap.trinoOf, nil
}

// fullSnapshot is a whole directory read: the policy data and the indexes a
// Directory keeps beside it.
type fullSnapshot struct {
	root     ast.Object     // as OPA AST (export, tools), or
	goRoot   map[string]any // as Go values, the form the engine's store keeps
	rev      int64
	trinoOf  map[string]string
	owners   ownerIndex
	users    map[string]userIndex
	syncable map[string]bool
}

func snapshot(ctx context.Context, st store.Store, settings Settings, asGo bool) (fullSnapshot, error) {
	var users []directory.User
	var groups []directory.Group
	var iams []directory.IAM
	var rev int64
	err := st.View(ctx, func(r store.Reader) error {
		var err error
		if rev, err = r.Revision(ctx); err != nil {
			return err
		}
		if users, err = r.ListUsers(ctx, store.UserFilter{IncludeDisabled: true}); err != nil {
			return err
		}
		if iams, err = r.ListIAMs(ctx); err != nil {
			return err
		}
		groups, err = r.ListGroups(ctx)
		return err
	})
	if err != nil {
		return fullSnapshot{}, err
	}
	return buildSnapshot(users, groups, iams, settings, rev, asGo), nil
}

// DirectoryValue is the value policies see at data.gatehouse for the given
// users and groups, built as Snapshot builds it from the store (for
// benchmarks and tools that have the records at hand).
func DirectoryValue(users []directory.User, groups []directory.Group, settings Settings, rev int64) ast.Object {
	return buildSnapshot(users, groups, nil, settings, rev, false).root
}

// buildSnapshot builds the policy data as AST, or as Go values (asGo): each
// user's AST is then converted as soon as it is built, so that a large
// directory is never held in both forms.
func buildSnapshot(users []directory.User, groups []directory.Group, iams []directory.IAM, settings Settings, rev int64, asGo bool) fullSnapshot {
	snap := fullSnapshot{rev: rev, trinoOf: make(map[string]string, len(users)), owners: newOwnerIndex(len(users)),
		users: make(map[string]userIndex, len(users)), syncable: syncableIAMs(iams)}
	in := newInterner()
	// The strings the indexes keep (usernames, Trino names) go into an
	// arena, and the policy data's collections into pointer-free tables:
	// see internal/arena and policy.Collection.
	strs := &arena.Strings{}
	var usersObj ast.Object
	var usersGo *policy.CollectionBuilder
	if asGo {
		usersGo = policy.NewCollectionBuilder(len(users))
	} else {
		usersObj = ast.NewObjectWithCapacity(len(users))
	}
	for i := range users {
		u := &users[i]
		u.Email = strs.String(u.Email)
		if asGo {
			usersGo.Add(u.Email, in.user(u))
		} else {
			usersObj.Insert(in.str(u.Email), ast.NewTerm(in.user(u)))
		}
		ix := indexOf(u)
		ix.iam = in.name(ix.iam)
		snap.users[u.Email] = ix
		if name := trinoName(u); name != "" {
			key := strs.String(trinoKey(settings, name))
			snap.owners.add(key, u.Email)
			snap.trinoOf[u.Email] = key
		}
	}
	if asGo {
		trinoGo := policy.NewCollectionBuilder(len(snap.owners.first))
		for key, holder := range snap.owners.first {
			trinoGo.Add(key, ast.String(holder))
		}
		groupsGo := policy.NewCollectionBuilder(len(groups))
		for i := range groups {
			groupsGo.Add(groups[i].Name, in.group(&groups[i]))
		}
		snap.goRoot = map[string]any{
			"users":      usersGo.Build(),
			"trinoUsers": trinoGo.Build(),
			"groups":     groupsGo.Build(),
			"settings":   goValue(settingsValue(settings)),
			"revision":   goValue(ast.IntNumberTerm(int(rev)).Value),
		}
		return snap
	}
	trino := ast.NewObjectWithCapacity(len(snap.owners.first))
	for key, holder := range snap.owners.first {
		trino.Insert(in.str(key), in.str(holder))
	}
	groupsObj := ast.NewObjectWithCapacity(len(groups))
	for i := range groups {
		groupsObj.Insert(in.str(groups[i].Name), ast.NewTerm(in.group(&groups[i])))
	}
	root := ast.NewObject(
		ast.Item(keyUsers, ast.NewTerm(usersObj)),
		ast.Item(keyTrinoUsers, ast.NewTerm(trino)),
		ast.Item(keyGroups, ast.NewTerm(groupsObj)),
		ast.Item(ast.StringTerm("settings"), ast.NewTerm(settingsValue(settings))),
		ast.Item(ast.StringTerm("revision"), ast.IntNumberTerm(int(rev))),
	)
	snap.root = root
	return snap
}

// goValue is v as the Go values of its JSON: objects as map[string]any,
// arrays and sets as []any, numbers as json.Number. (Directory data has
// string keys only; any other key is written as its JSON text.)
func goValue(v ast.Value) any {
	switch v := v.(type) {
	case ast.Object:
		m := make(map[string]any, v.Len())
		v.Foreach(func(k, x *ast.Term) {
			key, ok := k.Value.(ast.String)
			if !ok {
				key = ast.String(k.String())
			}
			m[string(key)] = goValue(x.Value)
		})
		return m
	case *ast.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = goValue(v.Elem(i).Value)
		}
		return out
	case ast.Set:
		out := make([]any, 0, v.Len())
		v.Foreach(func(x *ast.Term) { out = append(out, goValue(x.Value)) })
		return out
	case ast.String:
		return string(v)
	case ast.Number:
		return json.Number(v)
	case ast.Boolean:
		return bool(v)
	default:
		return nil
	}
}
