package admin

import (
	"context"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// workflows names, for the usage report, the audit types it counts. The
// report carries only these names, days and counts: never a username, email
// or id, so it can leave the organisation.
var workflows = map[string]string{
	audit.UserCreate:        "users_created",
	audit.UserUpdate:        "users_updated",
	audit.UserDisable:       "users_disabled",
	audit.UserEnable:        "users_enabled",
	audit.UserDelete:        "users_deleted",
	audit.UserMigrate:       "users_migrated",
	audit.UserSync:          "users_synced",
	audit.PermissionGrant:   "permissions_granted",
	audit.PermissionRevoke:  "permissions_revoked",
	audit.UserAttributeAdd:  "user_attributes_added",
	audit.UserAttributeDel:  "user_attributes_removed",
	audit.ExternalIDSet:     "external_ids_set",
	audit.ExternalIDDelete:  "external_ids_removed",
	audit.GroupCreate:       "groups_created",
	audit.GroupUpdate:       "groups_updated",
	audit.GroupDelete:       "groups_deleted",
	audit.GroupMemberAdd:    "group_members_added",
	audit.GroupMemberRemove: "group_members_removed",
	audit.GroupAttributeAdd: "group_attributes_added",
	audit.GroupAttributeDel: "group_attributes_removed",
	audit.IAMPut:            "iams_saved",
	audit.IAMDelete:         "iams_deleted",
	audit.TokenCreate:       "tokens_created",
	audit.TokenDelete:       "tokens_deleted",
}

// UsageReport is the anonymised daily usage download.
type UsageReport struct {
	GeneratedAt time.Time  `json:"generatedAt"`
	Days        int        `json:"days"`
	From        string     `json:"from"` // first day, YYYY-MM-DD (UTC)
	To          string     `json:"to"`   // last day, inclusive
	Daily       []UsageDay `json:"daily"`
}

// UsageDay holds one day's counts per workflow; workflows with no events are omitted.
type UsageDay struct {
	Day    string           `json:"day"`
	Counts map[string]int64 `json:"counts"`
}

// UsageMetrics aggregates the last days days (today included) of admin
// activity. 1 ≤ days ≤ 365.
func (s *Service) UsageMetrics(ctx context.Context, p Principal, days int) (UsageReport, error) {
	if err := require(p, directory.PermUserAdmin, directory.PermAudit); err != nil {
		return UsageReport{}, err
	}
	if days < 1 || days > 365 {
		return UsageReport{}, directory.Invalid("days", "days must be between 1 and 365, got %d", days)
	}
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	since := today.AddDate(0, 0, -(days - 1))
	until := today.AddDate(0, 0, 1)
	var counts []audit.DailyCount
	err := s.store.View(ctx, func(r store.Reader) error {
		var err error
		counts, err = r.CountAuditByDay(ctx, since, until)
		return err
	})
	if err != nil {
		return UsageReport{}, err
	}
	rep := UsageReport{GeneratedAt: now, Days: days, From: since.Format(time.DateOnly), To: today.Format(time.DateOnly)}
	index := make(map[string]int, days)
	for d := since; d.Before(until); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		index[day] = len(rep.Daily)
		rep.Daily = append(rep.Daily, UsageDay{Day: day, Counts: map[string]int64{}})
	}
	for _, c := range counts {
		name, ok := workflows[c.Type]
		i, inRange := index[c.Day]
		if ok && inRange {
			rep.Daily[i].Counts[name] += c.Count
		}
	}
	return rep, nil
}
