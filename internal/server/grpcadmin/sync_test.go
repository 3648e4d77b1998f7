package grpcadmin

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	pb "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
)

// The user-info sync over gRPC, against the env's real loopback endpoint.
func TestSyncUserRPC(t *testing.T) {
	runCases(t, []rpcCase{
		{
			name: "SyncUser adds IAM-owned details beside the manual ones",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				e.moveToCorp(bob)
				return e.client.SyncUser(ctx, &pb.SyncUserRequest{Username: bob})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				u := resp.(*pb.SyncUserResponse).GetUser()
				st := u.GetSync()
				if !slices.Equal(u.GetGroups(), []string{"analysts", "synced"}) || !slices.Equal(st.GetGroups(), []string{"synced"}) {
					t.Errorf("groups %v, synced groups %v", u.GetGroups(), st.GetGroups())
				}
				if got := st.GetAttributes()["level"].GetValues(); !slices.Equal(got, []string{"1"}) || st.GetAttributes()["region"] != nil {
					t.Errorf("synced attributes %v", st.GetAttributes())
				}
				if u.GetAttributes()["region"] == nil {
					t.Errorf("manual attribute lost: %v", u.GetAttributes())
				}
				if st.GetIam() != "corp" || st.GetLastSyncAt() == nil || st.GetLastSuccessAt() == nil || st.GetLastError() != "" {
					t.Errorf("sync state %v", st)
				}
			},
		},
		{
			name: "SyncUser failure is UNAVAILABLE and shows on the user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				e.moveToCorp(bob)
				e.userInfoStatus.Store(404)
				return e.client.SyncUser(ctx, &pb.SyncUserRequest{Username: bob})
			},
			code: codes.Unavailable, msg: "HTTP 404 Not Found",
			check: func(t *testing.T, e *env, _ proto.Message) {
				u := e.getUser(t, bob)
				if !strings.Contains(u.GetSync().GetLastError(), "HTTP 404") || !slices.Contains(u.GetGroups(), "synced") {
					t.Errorf("after a failed sync: groups %v, sync %v", u.GetGroups(), u.GetSync())
				}
			},
		},
		{
			name: "SyncUser of a user whose IAM has no endpoint",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.SyncUser(ctx, &pb.SyncUserRequest{Username: alice})
			},
			code: codes.InvalidArgument, msg: "has no user-info endpoint",
		},
		{
			name: "SyncUser of an unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.SyncUser(ctx, &pb.SyncUserRequest{Username: "nobody@example.com"})
			},
			code: codes.NotFound,
		},
		{
			name: "GetUser of a never-synced user has no sync state",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUser(ctx, &pb.GetUserRequest{Username: bob})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if st := resp.(*pb.GetUserResponse).GetUser().GetSync(); st != nil {
					t.Errorf("sync state %v", st)
				}
			},
		},
	})
}

func TestPutIamChecksTheEndpoint(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		ep          *pb.UserInfoEndpoint
		field, want string
	}{
		{&pb.UserInfoEndpoint{Uri: "http://127.0.0.1:1/u"}, "userInfo.uri", "is unreachable"},
		{&pb.UserInfoEndpoint{Uri: "::not a url"}, "userInfo.uri", "not a valid URL"},
		{&pb.UserInfoEndpoint{Uri: "https://127.0.0.1:1/u", CaFile: "/nonexistent/ca.pem"}, "userInfo.caFile", "cannot be read"},
	}
	for _, c := range cases {
		_, err := e.client.PutIam(e.as("boot"), &pb.PutIamRequest{Iam: &pb.Iam{Id: "corp", DisplayName: "Corp", UserInfo: c.ep}})
		st := expectCode(t, err, codes.InvalidArgument, c.want)
		var fields []string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					fields = append(fields, v.GetField())
				}
			}
		}
		if !slices.Equal(fields, []string{c.field}) {
			t.Errorf("%s: field violations %v, want %s", c.ep.GetUri(), fields, c.field)
		}
	}
}
