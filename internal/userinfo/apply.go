package userinfo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Changes is what applying one answer did to a user: the audit record of a
// sync carries it, and metrics count it.
type Changes struct {
	IAM               string               `json:"iam"`
	GroupsAdded       []string             `json:"groupsAdded,omitempty"`
	GroupsRemoved     []string             `json:"groupsRemoved,omitempty"`
	AttributesAdded   directory.Attributes `json:"attributesAdded,omitempty"`
	AttributesRemoved directory.Attributes `json:"attributesRemoved,omitempty"`
	// ExternalIDs are the platform names the profile mapping set.
	ExternalIDs map[string]string `json:"externalIds,omitempty"`
	// GroupsCreated are groups the answer named that did not exist yet.
	GroupsCreated []string `json:"groupsCreated,omitempty"`
	// Problems are parts of the answer that could not be applied (a name
	// the directory does not accept, a Trino name another user holds).
	Problems []string `json:"problems,omitempty"`
}

// Changed reports whether the directory changed.
func (c *Changes) Changed() bool {
	return len(c.GroupsAdded)+len(c.GroupsRemoved)+len(c.AttributesAdded)+len(c.AttributesRemoved)+
		len(c.ExternalIDs)+len(c.GroupsCreated) > 0
}

// Groups lists every group whose members changed: the directory mirror
// refreshes the groups an audit record names under "groups".
func (c *Changes) Groups() []string {
	return directory.SortStrings(append(slices.Clone(c.GroupsAdded), c.GroupsRemoved...))
}

func count(a directory.Attributes) int {
	n := 0
	for _, vs := range a {
		n += len(vs)
	}
	return n
}

// ApplyOptions are the settings Apply needs besides the answer.
type ApplyOptions struct {
	// Now stamps groups the answer creates.
	Now time.Time
	// FoldTrinoNames makes a Trino name from the profile mapping clash with
	// another user's that differs only in case (case-insensitive matching).
	FoldTrinoNames bool
}

// Apply makes username's IAM-owned memberships and attribute values equal
// to what info says, inside tx, and sets the external ids iam's profile
// mapping derives from it. Memberships and values set by hand are never
// added, removed or taken over: one the answer also names stays manual. A
// group the answer names that does not exist is created. Names and values
// the directory does not accept are skipped and reported in Problems, as
// are Trino names another user holds; a store failure is returned and the
// caller's transaction rolls back.
func Apply(ctx context.Context, tx store.Tx, username string, iam directory.IAM, info Info, opts ApplyOptions) (Changes, error) {
	ch := Changes{IAM: iam.ID}
	u, err := tx.GetUser(ctx, username)
	if err != nil {
		return ch, err
	}
	ownedGroups := map[string]bool{}
	ownedAttrs := directory.Attributes{}
	if u.Sync != nil {
		for _, g := range u.Sync.Groups {
			ownedGroups[g] = true
		}
		ownedAttrs = u.Sync.Attributes.Clone()
	}

	// Groups.
	keep := map[string]bool{}
	for _, g := range info.Groups {
		if err := directory.ValidateIdentifier("group", g); err != nil {
			ch.Problems = append(ch.Problems, fmt.Sprintf("group %q skipped: %v", g, err))
			continue
		}
		keep[g] = true
		if slices.Contains(u.Groups, g) && !ownedGroups[g] {
			continue // a manual membership stays manual
		}
		if !slices.Contains(u.Groups, g) {
			created, err := ensureGroup(ctx, tx, g, iam.ID, opts.Now)
			if err != nil {
				return ch, err
			}
			if created {
				ch.GroupsCreated = append(ch.GroupsCreated, g)
			}
		}
		added, err := tx.AddIAMMember(ctx, g, u.Email, iam.ID)
		if err != nil {
			return ch, err
		}
		if added {
			ch.GroupsAdded = append(ch.GroupsAdded, g)
		}
	}
	for g := range ownedGroups {
		if keep[g] {
			continue
		}
		if err := tx.RemoveIAMMember(ctx, g, u.Email); err != nil {
			return ch, err
		}
		ch.GroupsRemoved = append(ch.GroupsRemoved, g)
	}

	// Attributes.
	keepAttr := directory.Attributes{}
	for _, name := range sortedAttrNames(info.Authorizations) {
		for _, v := range info.Authorizations[name] {
			if err := directory.ValidateAttribute(name, v); err != nil {
				ch.Problems = append(ch.Problems, fmt.Sprintf("authorization %q value %q skipped: %v", name, v, err))
				continue
			}
			keepAttr.Add(name, v)
			_, owned := slices.BinarySearch(ownedAttrs[name], v)
			_, held := slices.BinarySearch(u.Attributes[name], v)
			if held && !owned {
				continue // a manual value stays manual
			}
			added, err := tx.AddIAMUserAttribute(ctx, u.Email, name, v, iam.ID)
			if err != nil {
				return ch, err
			}
			if added {
				addTo(&ch.AttributesAdded, name, v)
			}
		}
	}
	for _, name := range sortedAttrNames(ownedAttrs) {
		for _, v := range ownedAttrs[name] {
			if _, ok := slices.BinarySearch(keepAttr[name], v); ok {
				continue
			}
			if err := tx.RemoveIAMUserAttribute(ctx, u.Email, name, v); err != nil {
				return ch, err
			}
			addTo(&ch.AttributesRemoved, name, v)
		}
	}

	// External ids from the profile mapping.
	platforms := make([]string, 0, len(iam.ProfileMapping))
	for p := range iam.ProfileMapping {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	for _, platform := range platforms {
		attr := iam.ProfileMapping[platform]
		vals := info.Authorizations[attr]
		if len(vals) == 0 {
			// Absent upstream: the current name stays, since removing it
			// would make the user unknown on that platform.
			continue
		}
		name := vals[0]
		if len(vals) > 1 {
			ch.Problems = append(ch.Problems, fmt.Sprintf("profile mapping %s: authorization %q has %d values; used %q", platform, attr, len(vals), name))
		}
		if err := directory.ValidateExternalID(platform, name); err != nil {
			ch.Problems = append(ch.Problems, fmt.Sprintf("profile mapping %s: %q skipped: %v", platform, name, err))
			continue
		}
		if u.ExternalIDs[platform] == name {
			continue
		}
		err := ExternalIDClash(ctx, tx, u.Email, platform, name, opts.FoldTrinoNames)
		if err == nil {
			err = tx.SetExternalID(ctx, u.Email, platform, name)
		}
		if errors.Is(err, directory.ErrConflict) {
			ch.Problems = append(ch.Problems, fmt.Sprintf("profile mapping %s: %v", platform, err))
			continue
		}
		if err != nil {
			return ch, err
		}
		if ch.ExternalIDs == nil {
			ch.ExternalIDs = map[string]string{}
		}
		ch.ExternalIDs[platform] = name
	}
	slices.Sort(ch.GroupsRemoved)
	return ch, nil
}

// ensureGroup creates group g unless it exists, and reports whether it did.
func ensureGroup(ctx context.Context, tx store.Tx, g, iam string, now time.Time) (bool, error) {
	_, err := tx.GetGroup(ctx, g)
	if err == nil || !errors.Is(err, directory.ErrNotFound) {
		return false, err
	}
	return true, tx.CreateGroup(ctx, directory.Group{Name: g,
		Description: "Created by the user-info sync of identity provider " + iam, CreatedAt: now, UpdatedAt: now})
}

func addTo(a *directory.Attributes, name, value string) {
	if *a == nil {
		*a = directory.Attributes{}
	}
	a.Add(name, value)
}

func sortedAttrNames(a directory.Attributes) []string {
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ExternalIDClash returns directory.ErrConflict when, with fold set and
// platform "trino", another user holds name on platform in another case:
// with case-insensitive Trino names both would resolve alike. Exact clashes
// are the store's to report (SetExternalID).
func ExternalIDClash(ctx context.Context, r store.Reader, username, platform, name string, fold bool) error {
	if !fold || platform != directory.PlatformTrino {
		return nil
	}
	holders, err := r.UsernamesByExternalIDFold(ctx, platform, name)
	if err != nil {
		return err
	}
	for _, h := range holders {
		if h != directory.NormalizeUsername(username) {
			return &directory.Error{Kind: directory.ErrConflict,
				Msg: fmt.Sprintf("%s name %q is already mapped to user %q (Trino names are matched case-insensitively)", platform, name, h)}
		}
	}
	return nil
}
