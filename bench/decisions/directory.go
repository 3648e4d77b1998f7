package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

// dirModel is the synthetic directory, the one internal/trino's in-process
// benchmarks use (benchDirectory) so that the figures compare: user i is
// u<i>@example.com with Trino name u<i>, in groups g<i%G> and g<(i*7)%G>,
// region EMEA/APAC/AMER by i%3; every 100th user holds IMPERSONATE_USER,
// every 5,000th GOVERNANCE, and every 1,000th (i%1000 == 999) is disabled.
type dirModel struct {
	users, groups int
}

var regions = []string{"EMEA", "APAC", "AMER"}

func (m dirModel) email(i int) string     { return fmt.Sprintf("u%d@example.com", i) }
func (m dirModel) trinoName(i int) string { return fmt.Sprintf("u%d", i) }
func (m dirModel) disabled(i int) bool    { return i%1000 == 999 }
func (m dirModel) region(i int) string    { return regions[i%3] }
func (m dirModel) impersonator(i int) bool {
	return i%100 == 0
}
func (m dirModel) governance(i int) bool { return i%5000 == 0 }

// groupsOf lists user i's groups (one when both formulas agree).
func (m dirModel) groupsOf(i int) []string {
	g1, g2 := i%m.groups, (i*7)%m.groups
	if g1 == g2 {
		return []string{fmt.Sprintf("g%d", g1)}
	}
	return []string{fmt.Sprintf("g%d", g1), fmt.Sprintf("g%d", g2)}
}

func (m dirModel) permissions(i int) []directory.Permission {
	var ps []directory.Permission
	if m.impersonator(i) {
		ps = append(ps, directory.PermImpersonateUser)
	}
	if m.governance(i) {
		ps = append(ps, directory.PermGovernance)
	}
	return ps
}

// regular reports whether user i is an ordinary active user: the rules
// apply to them as written (no GOVERNANCE bypass), and they may be disabled
// and enabled again without touching anyone's special rights.
func (m dirModel) regular(i int) bool {
	return i >= 0 && i < m.users && !m.disabled(i) && !m.impersonator(i) && !m.governance(i)
}

// regularUser returns the j-th of a spread-out series of distinct regular
// users, for scenarios that want a different ordinary user per request (so
// that no answer is served from gatehouse's decision cache).
func (m dirModel) regularUser(j int) int {
	i := (1 + j*7919) % m.users
	for !m.regular(i) {
		i = (i + 1) % m.users
	}
	return i
}

// seedStats is what seeding wrote, for the report.
type seedStats struct {
	Users, Groups, Memberships, Disabled, Impersonators, Governance int
	Seconds                                                         float64
}

// seedBatch is how many users (or groups) go into one store transaction:
// large enough that commits (each one fsynced) do not dominate, small
// enough that one transaction stays short.
const seedBatch = 2000

// seedStore creates the directory in a fresh embedded store at dir through
// the store API, with the domain types' own validation, a few thousand
// writes per transaction.
func seedStore(ctx context.Context, dir string, m dirModel) (seedStats, error) {
	began := time.Now()
	var stats seedStats
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		return stats, err
	}
	defer st.Close()
	now := time.Now().UTC()
	for start := 0; start < m.groups; start += seedBatch {
		err := st.Update(ctx, func(tx store.Tx) error {
			for g := start; g < min(start+seedBatch, m.groups); g++ {
				grp := directory.Group{Name: fmt.Sprintf("g%d", g), Description: fmt.Sprintf("Bench group %d", g), CreatedAt: now, UpdatedAt: now}
				if err := grp.Validate(); err != nil {
					return err
				}
				if err := tx.CreateGroup(ctx, grp); err != nil {
					return fmt.Errorf("group %s: %w", grp.Name, err)
				}
				stats.Groups++
			}
			return nil
		})
		if err != nil {
			return stats, err
		}
	}
	for start := 0; start < m.users; start += seedBatch {
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := start; i < min(start+seedBatch, m.users); i++ {
				if err := seedUser(ctx, tx, m, i, now, &stats); err != nil {
					return fmt.Errorf("user %d: %w", i, err)
				}
			}
			return nil
		})
		if err != nil {
			return stats, err
		}
	}
	stats.Seconds = time.Since(began).Seconds()
	return stats, nil
}

func seedUser(ctx context.Context, tx store.Tx, m dirModel, i int, now time.Time, stats *seedStats) error {
	u := directory.User{Email: m.email(i), FullName: fmt.Sprintf("User %d", i), Disabled: m.disabled(i), CreatedAt: now, UpdatedAt: now}
	if err := u.Validate(); err != nil {
		return err
	}
	if err := tx.CreateUser(ctx, u); err != nil {
		return err
	}
	stats.Users++
	if u.Disabled {
		stats.Disabled++
	}
	if err := directory.ValidateExternalID(directory.PlatformTrino, m.trinoName(i)); err != nil {
		return err
	}
	if err := tx.SetExternalID(ctx, u.Email, directory.PlatformTrino, m.trinoName(i)); err != nil {
		return err
	}
	if err := directory.ValidateAttribute("region", m.region(i)); err != nil {
		return err
	}
	if _, err := tx.AddUserAttribute(ctx, u.Email, "region", m.region(i)); err != nil {
		return err
	}
	for _, p := range m.permissions(i) {
		if _, err := directory.ParsePermission(string(p)); err != nil {
			return err
		}
		if _, err := tx.GrantPermission(ctx, u.Email, p); err != nil {
			return err
		}
		switch p {
		case directory.PermImpersonateUser:
			stats.Impersonators++
		case directory.PermGovernance:
			stats.Governance++
		}
	}
	for _, g := range m.groupsOf(i) {
		if _, err := tx.AddMember(ctx, g, u.Email); err != nil {
			return err
		}
		stats.Memberships++
	}
	return nil
}
