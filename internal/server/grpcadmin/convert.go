package grpcadmin

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// Conversions between the domain and the wire. They copy fields and nothing
// else, except where the wire format itself can be malformed (timestamps,
// durations): that is reported as InvalidArgument on the proto field name.

// timestamp leaves a zero time unset rather than sending 0001-01-01.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeFrom reads an optional timestamp; unset is the zero time, which the
// domain treats as "no bound".
func timeFrom(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, directory.Invalid(field, "%s is not a valid timestamp: %v", field, err)
	}
	return ts.AsTime(), nil
}

// durationFrom reads an optional duration; unset is zero.
func durationFrom(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, directory.Invalid(field, "%s is not a valid duration: %v", field, err)
	}
	return d.AsDuration(), nil
}

func attributesToProto(a directory.Attributes) map[string]*gatehousev1.AttributeValues {
	if len(a) == 0 {
		return nil
	}
	out := make(map[string]*gatehousev1.AttributeValues, len(a))
	for name, vals := range a {
		out[name] = &gatehousev1.AttributeValues{Values: vals}
	}
	return out
}

func permissionsToProto(ps []directory.Permission) []string {
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func userToProto(u directory.User) *gatehousev1.User {
	return &gatehousev1.User{
		Email:       u.Email,
		FullName:    u.FullName,
		Iam:         u.IAM,
		UserId:      u.UserID,
		Disabled:    u.Disabled,
		CreatedAt:   timestamp(u.CreatedAt),
		UpdatedAt:   timestamp(u.UpdatedAt),
		Permissions: permissionsToProto(u.Permissions),
		Groups:      u.Groups,
		Attributes:  attributesToProto(u.Attributes),
		ExternalIds: u.ExternalIDs,
		Sync:        syncStateToProto(u.Sync),
	}
}

func syncStateToProto(st *directory.SyncState) *gatehousev1.SyncState {
	if st == nil {
		return nil
	}
	out := &gatehousev1.SyncState{
		Iam:        st.IAM,
		LastError:  st.LastError,
		Groups:     st.Groups,
		Attributes: attributesToProto(st.Attributes),
	}
	if st.LastSyncAt != nil {
		out.LastSyncAt = timestamp(*st.LastSyncAt)
	}
	if st.LastSuccessAt != nil {
		out.LastSuccessAt = timestamp(*st.LastSuccessAt)
	}
	return out
}

func usersToProto(us []directory.User) []*gatehousev1.User {
	out := make([]*gatehousev1.User, len(us))
	for i, u := range us {
		out[i] = userToProto(u)
	}
	return out
}

func groupToProto(g directory.Group) *gatehousev1.Group {
	return &gatehousev1.Group{
		Name:        g.Name,
		Description: g.Description,
		Email:       g.Email,
		CreatedAt:   timestamp(g.CreatedAt),
		UpdatedAt:   timestamp(g.UpdatedAt),
		Members:     g.Members,
		Attributes:  attributesToProto(g.Attributes),
	}
}

func groupsToProto(gs []directory.Group) []*gatehousev1.Group {
	out := make([]*gatehousev1.Group, len(gs))
	for i, g := range gs {
		out[i] = groupToProto(g)
	}
	return out
}

// iamToProto never copies the user-info password. admin.Service already
// redacts it; not having the assignment here at all means a future admin
// change cannot leak it through gRPC.
func iamToProto(i directory.IAM) *gatehousev1.Iam {
	out := &gatehousev1.Iam{
		Id:             i.ID,
		DisplayName:    i.DisplayName,
		ProfileMapping: i.ProfileMapping,
		CreatedAt:      timestamp(i.CreatedAt),
		UpdatedAt:      timestamp(i.UpdatedAt),
	}
	if ui := i.UserInfo; ui != nil {
		out.UserInfo = &gatehousev1.UserInfoEndpoint{
			Uri:      ui.URI,
			Username: ui.Username,
			CaFile:   ui.CAFile,
			CertFile: ui.CertFile,
			KeyFile:  ui.KeyFile,
		}
	}
	return out
}

func iamsToProto(is []directory.IAM) []*gatehousev1.Iam {
	out := make([]*gatehousev1.Iam, len(is))
	for i, v := range is {
		out[i] = iamToProto(v)
	}
	return out
}

// iamFromProto reads an identity provider to store, password included.
// Timestamps are output only: the admin service sets them.
func iamFromProto(i *gatehousev1.Iam) directory.IAM {
	out := directory.IAM{
		ID:             i.GetId(),
		DisplayName:    i.GetDisplayName(),
		ProfileMapping: i.GetProfileMapping(),
	}
	if ui := i.GetUserInfo(); ui != nil {
		out.UserInfo = &directory.UserInfoEndpoint{
			URI:      ui.GetUri(),
			Username: ui.GetUsername(),
			Password: ui.GetPassword(),
			CAFile:   ui.GetCaFile(),
			CertFile: ui.GetCertFile(),
			KeyFile:  ui.GetKeyFile(),
		}
	}
	return out
}

func tokenToProto(t directory.Token) *gatehousev1.Token {
	out := &gatehousev1.Token{
		Id:          t.ID,
		Username:    t.Username,
		Description: t.Description,
		CreatedAt:   timestamp(t.CreatedAt),
	}
	if t.ExpiresAt != nil {
		out.ExpiresAt = timestamppb.New(*t.ExpiresAt)
	}
	return out
}

func tokensToProto(ts []directory.Token) []*gatehousev1.Token {
	out := make([]*gatehousev1.Token, len(ts))
	for i, t := range ts {
		out[i] = tokenToProto(t)
	}
	return out
}

func auditToProto(r audit.Record) *gatehousev1.AuditRecord {
	return &gatehousev1.AuditRecord{
		Id:        r.ID,
		Time:      timestamp(r.Time),
		Type:      r.Type,
		Actor:     r.Actor,
		Target:    r.Target,
		Changes:   string(r.Changes),
		RequestId: r.RequestID,
	}
}

func auditsToProto(rs []audit.Record) []*gatehousev1.AuditRecord {
	out := make([]*gatehousev1.AuditRecord, len(rs))
	for i, r := range rs {
		out[i] = auditToProto(r)
	}
	return out
}

func usageToProto(r admin.UsageReport) *gatehousev1.UsageReport {
	out := &gatehousev1.UsageReport{
		GeneratedAt: timestamp(r.GeneratedAt),
		Days:        int32(r.Days), // admin bounds it to 1..365
		FromDay:     r.From,
		ToDay:       r.To,
		Daily:       make([]*gatehousev1.UsageDay, len(r.Daily)),
	}
	for i, d := range r.Daily {
		out.Daily[i] = &gatehousev1.UsageDay{Day: d.Day, Counts: d.Counts}
	}
	return out
}
