package grpcadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/sqlite"
)

// The tests run a real grpc.Server on a loopback port over the real SQLite
// store, and talk to it through generated client stubs: what they check is
// what a client sees on the wire.

var _ store.Store = (*sqlite.Store)(nil)

const bootToken = "boot"

// Seeded users. alice has no permission, auditor holds AUDIT, bob holds
// IMPERSONATE_USER and is the usual target of admin calls.
const (
	alice   = "alice@example.com"
	bob     = "bob@example.com"
	auditor = "auditor@example.com"
)

type env struct {
	client pb.AdminServiceClient
	health healthpb.HealthClient
	st     *sqlite.Store
	// tokens maps a caller name ("alice", "bob", "auditor") to its bearer secret.
	tokens     map[string]string
	bobTokenID string
	// reloadErr, when set, is the error the policy reloader answers with.
	// Atomic because the server's goroutines read it.
	reloadErr atomic.Pointer[string]
	// userInfoURL is a real user-info endpoint on loopback; it answers
	// userInfoStatus (200 with one group and one authorization by default).
	userInfoURL    string
	userInfoStatus atomic.Int32
}

// serve starts srv on a loopback port and returns a client connection to it;
// both are stopped when the test ends.
func serve(t *testing.T, srv *grpc.Server) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-served
	})
	return conn
}

// newEnv starts a server over a fresh store and seeds it through the API.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &env{st: st, tokens: map[string]string{}}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := int(e.userInfoStatus.Load()); code != 0 {
			w.WriteHeader(code)
			return
		}
		_, _ = w.Write([]byte(`{"groups": [{"name": "synced"}], "authorizations": {"level": ["1"]}}`))
	}))
	t.Cleanup(up.Close)
	e.userInfoURL = up.URL + "/userinfo"
	// The policy engine is another package's job; admin.Service only needs
	// its reload hook, which here succeeds or fails on demand.
	reload := func(context.Context) error {
		if msg := e.reloadErr.Load(); msg != nil {
			return &policy.BundleError{Err: errors.New(*msg)}
		}
		return nil
	}
	svc := admin.New(st, admin.WithBootstrapToken(bootToken), admin.WithPolicyReloader(reload))
	if err := svc.Init(ctx); err != nil {
		t.Fatalf("init: %v", err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(UnaryInterceptor(svc)))
	Register(srv, svc)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	conn := serve(t, srv)
	e.client, e.health = pb.NewAdminServiceClient(conn), healthpb.NewHealthClient(conn)
	e.seed(t)
	return e
}

func (e *env) seed(t *testing.T) {
	t.Helper()
	ctx := e.as("boot")
	c := e.client
	must(t)(c.PutIam(ctx, &pb.PutIamRequest{Iam: &pb.Iam{Id: "okta", DisplayName: "Okta"}}))
	must(t)(c.CreateUser(ctx, &pb.CreateUserRequest{Email: alice, FullName: "Alice"}))
	must(t)(c.CreateUser(ctx, &pb.CreateUserRequest{Email: bob, FullName: "Bob"}))
	must(t)(c.CreateUser(ctx, &pb.CreateUserRequest{Email: auditor, FullName: "Auditor"}))
	must(t)(c.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: bob, Permission: "IMPERSONATE_USER"}))
	must(t)(c.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: auditor, Permission: "AUDIT"}))
	must(t)(c.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: bob, Name: "region", Value: "EMEA"}))
	must(t)(c.SetExternalId(ctx, &pb.SetExternalIdRequest{Username: bob, Platform: "trino", ExternalUsername: "bob"}))
	must(t)(c.CreateGroup(ctx, &pb.CreateGroupRequest{Name: "analysts", Description: "Analysts"}))
	must(t)(c.AddGroupMember(ctx, &pb.AddGroupMemberRequest{Group: "analysts", Username: bob}))
	must(t)(c.AddGroupAttribute(ctx, &pb.AddGroupAttributeRequest{Group: "analysts", Name: "region", Value: "EMEA"}))
	// Tokens are minted through the API like a real admin would.
	for name, user := range map[string]string{"alice": alice, "bob": bob, "auditor": auditor} {
		resp, err := c.CreateToken(ctx, &pb.CreateTokenRequest{Username: user, Description: "test"})
		if err != nil {
			t.Fatalf("seed token for %s: %v", user, err)
		}
		e.tokens[name] = resp.GetSecret()
		if name == "bob" {
			e.bobTokenID = resp.GetToken().GetId()
		}
	}
}

// moveToCorp creates identity provider "corp", with the loopback user-info
// endpoint, and migrates username to it (which syncs them once).
func (e *env) moveToCorp(username string) {
	boot := e.as("boot")
	if _, err := e.client.PutIam(boot, &pb.PutIamRequest{Iam: &pb.Iam{Id: "corp", DisplayName: "Corp",
		UserInfo: &pb.UserInfoEndpoint{Uri: e.userInfoURL}}}); err != nil {
		panic(err)
	}
	if _, err := e.client.MigrateUser(boot, &pb.MigrateUserRequest{Username: username, Iam: "corp"}); err != nil {
		panic(err)
	}
}

// as returns a context calling as who: "boot" (the bootstrap admin), a
// seeded user's name, "none" (no authorization metadata) or "bad" (a token
// the server never issued).
func (e *env) as(who string) context.Context {
	ctx := context.Background()
	switch who {
	case "none":
		return ctx
	case "boot":
		return bearerCtx(ctx, bootToken)
	case "bad":
		return bearerCtx(ctx, "ghs_not-a-token")
	}
	tok, ok := e.tokens[who]
	if !ok {
		panic("no token for " + who)
	}
	return bearerCtx(ctx, tok)
}

func bearerCtx(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// must fails the test unless a call succeeded.
func must(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
}

// expectCode fails unless err has code and, when msg is set, a message
// containing it.
func expectCode(t *testing.T, err error, code codes.Code, msg string) *status.Status {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("got %v %q, want %v", st.Code(), st.Message(), code)
	}
	if msg != "" && !strings.Contains(st.Message(), msg) {
		t.Fatalf("message %q does not contain %q", st.Message(), msg)
	}
	return st
}

type callFn func(ctx context.Context, e *env) (proto.Message, error)

// everyRPC holds one valid call per AdminService method, aimed at seeded
// data that only USER_ADMIN (or AUDIT, for the audit RPCs) may touch.
var everyRPC = map[string]callFn{
	"CreateUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.CreateUser(ctx, &pb.CreateUserRequest{Email: "carol@example.com", FullName: "Carol"})
	},
	"ListUsers": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.ListUsers(ctx, &pb.ListUsersRequest{})
	},
	"GetUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.GetUser(ctx, &pb.GetUserRequest{Username: bob})
	},
	"UpdateUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Username: bob, FullName: "Robert"})
	},
	"DisableUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.DisableUser(ctx, &pb.DisableUserRequest{Username: bob})
	},
	"EnableUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.EnableUser(ctx, &pb.EnableUserRequest{Username: bob})
	},
	"DeleteUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Username: bob, Confirm: "DELETE"})
	},
	"MigrateUser": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.MigrateUser(ctx, &pb.MigrateUserRequest{Username: bob, Iam: "okta"})
	},
	"SyncUser": func(ctx context.Context, e *env) (proto.Message, error) {
		e.moveToCorp(bob)
		return e.client.SyncUser(ctx, &pb.SyncUserRequest{Username: bob})
	},
	"GrantPermission": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: bob, Permission: "GOVERNANCE"})
	},
	"RevokePermission": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.RevokePermission(ctx, &pb.RevokePermissionRequest{Username: bob, Permission: "IMPERSONATE_USER"})
	},
	"AddUserAttribute": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: bob, Name: "team", Value: "blue"})
	},
	"RemoveUserAttribute": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.RemoveUserAttribute(ctx, &pb.RemoveUserAttributeRequest{Username: bob, Name: "region", Value: "EMEA"})
	},
	"SetExternalId": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.SetExternalId(ctx, &pb.SetExternalIdRequest{Username: bob, Platform: "trino", ExternalUsername: "robert"})
	},
	"DeleteExternalId": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.DeleteExternalId(ctx, &pb.DeleteExternalIdRequest{Username: bob, Platform: "trino"})
	},
	"CreateGroup": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.CreateGroup(ctx, &pb.CreateGroupRequest{Name: "engineers"})
	},
	"GetGroup": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.GetGroup(ctx, &pb.GetGroupRequest{Name: "analysts"})
	},
	"ListGroups": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.ListGroups(ctx, &pb.ListGroupsRequest{})
	},
	"UpdateGroup": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.UpdateGroup(ctx, &pb.UpdateGroupRequest{Name: "analysts", Description: "Data analysts"})
	},
	"DeleteGroup": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.DeleteGroup(ctx, &pb.DeleteGroupRequest{Name: "analysts"})
	},
	"AddGroupMember": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.AddGroupMember(ctx, &pb.AddGroupMemberRequest{Group: "analysts", Username: alice})
	},
	"RemoveGroupMember": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.RemoveGroupMember(ctx, &pb.RemoveGroupMemberRequest{Group: "analysts", Username: bob})
	},
	"AddGroupAttribute": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.AddGroupAttribute(ctx, &pb.AddGroupAttributeRequest{Group: "analysts", Name: "tier", Value: "gold"})
	},
	"RemoveGroupAttribute": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.RemoveGroupAttribute(ctx, &pb.RemoveGroupAttributeRequest{Group: "analysts", Name: "region"})
	},
	"CreateIam": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.CreateIam(ctx, &pb.CreateIamRequest{Iam: &pb.Iam{Id: "azure", DisplayName: "Azure AD"}})
	},
	"PutIam": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.PutIam(ctx, &pb.PutIamRequest{Iam: &pb.Iam{Id: "azure", DisplayName: "Azure AD"}})
	},
	"GetIam": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.GetIam(ctx, &pb.GetIamRequest{Id: "okta"})
	},
	"ListIams": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.ListIams(ctx, &pb.ListIamsRequest{})
	},
	"DeleteIam": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.DeleteIam(ctx, &pb.DeleteIamRequest{Id: "okta"})
	},
	"CreateToken": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: bob, Description: "ci"})
	},
	"ListTokens": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.ListTokens(ctx, &pb.ListTokensRequest{Username: bob})
	},
	"DeleteToken": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.DeleteToken(ctx, &pb.DeleteTokenRequest{Username: bob, Id: e.bobTokenID})
	},
	"ListAudit": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.ListAudit(ctx, &pb.ListAuditRequest{})
	},
	"GetUsageMetrics": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.GetUsageMetrics(ctx, &pb.GetUsageMetricsRequest{Days: 7})
	},
	"ReloadPolicies": func(ctx context.Context, e *env) (proto.Message, error) {
		return e.client.ReloadPolicies(ctx, &pb.ReloadPoliciesRequest{})
	},
}

// TestEveryRPCAuthentication checks, for every method of the service, that
// callers without a token or with an unknown one are Unauthenticated, that a
// user without USER_ADMIN is PermissionDenied, and that the bootstrap admin
// succeeds. It also fails when an RPC is added to the proto without a case
// here, so no RPC ships without its auth being tested.
func TestEveryRPCAuthentication(t *testing.T) {
	var methods []string
	for _, m := range pb.AdminService_ServiceDesc.Methods {
		methods = append(methods, m.MethodName)
		if everyRPC[m.MethodName] == nil {
			t.Errorf("no test call for RPC %s", m.MethodName)
		}
	}
	if len(everyRPC) != len(methods) {
		t.Errorf("everyRPC has %d entries, the service %d methods", len(everyRPC), len(methods))
	}
	for _, name := range methods {
		call := everyRPC[name]
		if call == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each method has its own server and store
			e := newEnv(t)
			cases := []struct {
				as   string
				code codes.Code
				msg  string
			}{
				{"none", codes.Unauthenticated, "Bearer"},
				{"bad", codes.Unauthenticated, "invalid or expired token"},
				{"alice", codes.PermissionDenied, "requires the"},
				{"boot", codes.OK, ""}, // last: it may change the data
			}
			for _, c := range cases {
				_, err := call(e.as(c.as), e)
				st := status.Convert(err)
				if st.Code() != c.code {
					t.Fatalf("as %s: got %v %q, want %v", c.as, st.Code(), st.Message(), c.code)
				}
				if !strings.Contains(st.Message(), c.msg) {
					t.Errorf("as %s: message %q does not contain %q", c.as, st.Message(), c.msg)
				}
			}
		})
	}
}

type rpcCase struct {
	name  string
	as    string // see env.as; "" means "boot"
	call  callFn
	code  codes.Code
	msg   string                                         // substring of the status message
	check func(t *testing.T, e *env, resp proto.Message) // runs after the call, whatever its code
}

func runCases(t *testing.T, cases []rpcCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own server and store
			e := newEnv(t)
			who := c.as
			if who == "" {
				who = "boot"
			}
			resp, err := c.call(e.as(who), e)
			expectCode(t, err, c.code, c.msg)
			if c.check != nil {
				c.check(t, e, resp)
			}
		})
	}
}

// getUser reads a user as the bootstrap admin.
func (e *env) getUser(t *testing.T, username string) *pb.User {
	t.Helper()
	resp, err := e.client.GetUser(e.as("boot"), &pb.GetUserRequest{Username: username})
	if err != nil {
		t.Fatalf("get user %s: %v", username, err)
	}
	return resp.GetUser()
}

func (e *env) getGroup(t *testing.T, name string) *pb.Group {
	t.Helper()
	resp, err := e.client.GetGroup(e.as("boot"), &pb.GetGroupRequest{Name: name})
	if err != nil {
		t.Fatalf("get group %s: %v", name, err)
	}
	return resp.GetGroup()
}

func usernames(us []*pb.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.GetEmail())
	}
	return out
}

func TestUserRPCs(t *testing.T) {
	runCases(t, []rpcCase{
		{
			name: "CreateUser lower-cases the email and fills defaults",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateUser(ctx, &pb.CreateUserRequest{Email: "Carol@Example.com", FullName: "Carol"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				u := resp.(*pb.CreateUserResponse).GetUser()
				if u.GetEmail() != "carol@example.com" || u.GetIam() != directory.BuiltinIAM || u.GetUserId() != "carol@example.com" {
					t.Errorf("user = %v", u)
				}
				if u.GetCreatedAt() == nil || u.GetUpdatedAt() == nil {
					t.Errorf("timestamps not set: %v", u)
				}
			},
		},
		{
			name: "CreateUser duplicate email, any case",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateUser(ctx, &pb.CreateUserRequest{Email: "BOB@example.com", FullName: "Bob again"})
			},
			code: codes.AlreadyExists, msg: bob,
		},
		{
			name: "CreateUser invalid email names the field",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateUser(ctx, &pb.CreateUserRequest{Email: "not an email", FullName: "X"})
			},
			code: codes.InvalidArgument, msg: "not a valid email address",
		},
		{
			name: "CreateUser unknown identity provider",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateUser(ctx, &pb.CreateUserRequest{Email: "carol@example.com", FullName: "Carol", Iam: "nope"})
			},
			code: codes.InvalidArgument, msg: `identity provider "nope" does not exist`,
		},
		{
			name: "ListUsers hides disabled users unless asked",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.DisableUser(ctx, &pb.DisableUserRequest{Username: bob}); err != nil {
					return nil, err
				}
				return e.client.ListUsers(ctx, &pb.ListUsersRequest{})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := usernames(resp.(*pb.ListUsersResponse).GetUsers()); !slices.Equal(got, []string{alice, auditor}) {
					t.Errorf("active users = %v", got)
				}
				all, err := e.client.ListUsers(e.as("boot"), &pb.ListUsersRequest{IncludeDisabled: true})
				if err != nil {
					t.Fatal(err)
				}
				if got := usernames(all.GetUsers()); !slices.Equal(got, []string{alice, auditor, bob}) {
					t.Errorf("all users = %v", got)
				}
			},
		},
		{
			name: "ListUsers filters by identity provider",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.MigrateUser(ctx, &pb.MigrateUserRequest{Username: bob, Iam: "okta"}); err != nil {
					return nil, err
				}
				return e.client.ListUsers(ctx, &pb.ListUsersRequest{Iam: "okta"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := usernames(resp.(*pb.ListUsersResponse).GetUsers()); !slices.Equal(got, []string{bob}) {
					t.Errorf("okta users = %v", got)
				}
			},
		},
		{
			name: "GetUser returns every detail",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUser(ctx, &pb.GetUserRequest{Username: "Bob@Example.com"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				u := resp.(*pb.GetUserResponse).GetUser()
				want := &pb.User{
					Email: bob, FullName: "Bob", Iam: "bim", UserId: bob,
					Permissions: []string{"IMPERSONATE_USER"},
					Groups:      []string{"analysts"},
					Attributes:  map[string]*pb.AttributeValues{"region": {Values: []string{"EMEA"}}},
					ExternalIds: map[string]string{"trino": "bob"},
				}
				got := proto.Clone(u).(*pb.User)
				got.CreatedAt, got.UpdatedAt = nil, nil
				if !proto.Equal(got, want) {
					t.Errorf("user = %v\nwant %v", got, want)
				}
			},
		},
		{
			name: "GetUser of oneself needs no USER_ADMIN",
			as:   "alice",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUser(ctx, &pb.GetUserRequest{Username: alice})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.GetUserResponse).GetUser().GetEmail(); got != alice {
					t.Errorf("email = %q", got)
				}
			},
		},
		{
			name: "GetUser unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUser(ctx, &pb.GetUserRequest{Username: "nobody@example.com"})
			},
			code: codes.NotFound, msg: "nobody@example.com",
		},
		{
			name: "UpdateUser changes the full name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Username: bob, FullName: "Robert"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := e.getUser(t, bob).GetFullName(); got != "Robert" {
					t.Errorf("full name = %q", got)
				}
			},
		},
		{
			name: "UpdateUser empty full name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Username: bob})
			},
			code: codes.InvalidArgument, msg: "fullName is required",
		},
		{
			name: "UpdateUser unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.UpdateUser(ctx, &pb.UpdateUserRequest{Username: "nobody@example.com", FullName: "X"})
			},
			code: codes.NotFound,
		},
		{
			name: "DisableUser disables and locks out the user's tokens",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DisableUser(ctx, &pb.DisableUserRequest{Username: bob})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if !resp.(*pb.DisableUserResponse).GetUser().GetDisabled() {
					t.Error("user not disabled")
				}
				_, err := e.client.GetUser(e.as("bob"), &pb.GetUserRequest{Username: bob})
				expectCode(t, err, codes.Unauthenticated, "")
			},
		},
		{
			name: "DisableUser unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DisableUser(ctx, &pb.DisableUserRequest{Username: "nobody@example.com"})
			},
			code: codes.NotFound,
		},
		{
			name: "EnableUser re-enables",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.DisableUser(ctx, &pb.DisableUserRequest{Username: bob}); err != nil {
					return nil, err
				}
				return e.client.EnableUser(ctx, &pb.EnableUserRequest{Username: bob})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if resp.(*pb.EnableUserResponse).GetUser().GetDisabled() {
					t.Error("user still disabled")
				}
				if _, err := e.client.GetUser(e.as("bob"), &pb.GetUserRequest{Username: bob}); err != nil {
					t.Errorf("bob's token after enable: %v", err)
				}
			},
		},
		{
			name: "EnableUser unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.EnableUser(ctx, &pb.EnableUserRequest{Username: "nobody@example.com"})
			},
			code: codes.NotFound,
		},
		{
			name: "DeleteUser with confirm removes the user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Username: bob, Confirm: "DELETE"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				_, err := e.client.GetUser(e.as("boot"), &pb.GetUserRequest{Username: bob})
				expectCode(t, err, codes.NotFound, "")
				if m := e.getGroup(t, "analysts").GetMembers(); len(m) != 0 {
					t.Errorf("deleted user still a member: %v", m)
				}
			},
		},
		{
			name: "DeleteUser without confirm keeps the user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Username: bob})
			},
			code: codes.InvalidArgument, msg: "confirm=DELETE",
			check: func(t *testing.T, e *env, resp proto.Message) {
				e.getUser(t, bob)
			},
		},
		{
			name: "DeleteUser with the wrong confirm word keeps the user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Username: bob, Confirm: "delete"})
			},
			code: codes.InvalidArgument,
			check: func(t *testing.T, e *env, resp proto.Message) {
				e.getUser(t, bob)
			},
		},
		{
			name: "DeleteUser unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteUser(ctx, &pb.DeleteUserRequest{Username: "nobody@example.com", Confirm: "DELETE"})
			},
			code: codes.NotFound,
		},
		{
			name: "MigrateUser moves to another identity provider and keeps details",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.MigrateUser(ctx, &pb.MigrateUserRequest{Username: bob, Iam: "okta", UserId: "00u123"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				u := resp.(*pb.MigrateUserResponse).GetUser()
				if u.GetIam() != "okta" || u.GetUserId() != "00u123" || !slices.Equal(u.GetPermissions(), []string{"IMPERSONATE_USER"}) {
					t.Errorf("user = %v", u)
				}
			},
		},
		{
			name: "MigrateUser unknown identity provider",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.MigrateUser(ctx, &pb.MigrateUserRequest{Username: bob, Iam: "nope"})
			},
			code: codes.InvalidArgument, msg: "nope",
		},
		{
			name: "MigrateUser unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.MigrateUser(ctx, &pb.MigrateUserRequest{Username: "nobody@example.com", Iam: "okta"})
			},
			code: codes.NotFound,
		},
		{
			name: "GrantPermission grants",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: alice, Permission: "USER_ADMIN"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.GrantPermissionResponse).GetUser().GetPermissions(); !slices.Equal(got, []string{"USER_ADMIN"}) {
					t.Errorf("permissions = %v", got)
				}
				// The grant takes effect for alice's existing token at once.
				if _, err := e.client.ListUsers(e.as("alice"), &pb.ListUsersRequest{}); err != nil {
					t.Errorf("alice as USER_ADMIN: %v", err)
				}
			},
		},
		{
			name: "GrantPermission of a held permission is a no-op",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: bob, Permission: "IMPERSONATE_USER"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.GrantPermissionResponse).GetUser().GetPermissions(); !slices.Equal(got, []string{"IMPERSONATE_USER"}) {
					t.Errorf("permissions = %v", got)
				}
			},
		},
		{
			name: "GrantPermission unknown permission lists the valid ones",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: bob, Permission: "SUPERUSER"})
			},
			code: codes.InvalidArgument, msg: `unknown permission "SUPERUSER"`,
			check: func(t *testing.T, e *env, resp proto.Message) {
				_, err := e.client.GrantPermission(e.as("boot"), &pb.GrantPermissionRequest{Username: bob, Permission: "SUPERUSER"})
				msg := status.Convert(err).Message()
				for _, p := range directory.Permissions {
					if !strings.Contains(msg, string(p)) {
						t.Errorf("message %q does not list %s", msg, p)
					}
				}
			},
		},
		{
			name: "GrantPermission unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GrantPermission(ctx, &pb.GrantPermissionRequest{Username: "nobody@example.com", Permission: "AUDIT"})
			},
			code: codes.NotFound,
		},
		{
			name: "RevokePermission revokes",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RevokePermission(ctx, &pb.RevokePermissionRequest{Username: bob, Permission: "IMPERSONATE_USER"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.RevokePermissionResponse).GetUser().GetPermissions(); len(got) != 0 {
					t.Errorf("permissions = %v", got)
				}
			},
		},
		{
			name: "RevokePermission not held",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RevokePermission(ctx, &pb.RevokePermissionRequest{Username: bob, Permission: "GOVERNANCE"})
			},
			code: codes.NotFound,
		},
		{
			name: "RevokePermission unknown permission",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RevokePermission(ctx, &pb.RevokePermissionRequest{Username: bob, Permission: "root"})
			},
			code: codes.InvalidArgument, msg: "valid permissions are",
		},
		{
			name: "AddUserAttribute adds a value to the set",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: bob, Name: "region", Value: "APAC"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				got := resp.(*pb.AddUserAttributeResponse).GetUser().GetAttributes()["region"].GetValues()
				if !slices.Equal(got, []string{"APAC", "EMEA"}) {
					t.Errorf("region = %v", got)
				}
			},
		},
		{
			name: "AddUserAttribute invalid name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: bob, Name: "bad name", Value: "x"})
			},
			code: codes.InvalidArgument,
		},
		{
			name: "AddUserAttribute empty value",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: bob, Name: "team"})
			},
			code: codes.InvalidArgument, msg: "value is required",
		},
		{
			name: "AddUserAttribute unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: "nobody@example.com", Name: "a", Value: "b"})
			},
			code: codes.NotFound,
		},
		{
			name: "RemoveUserAttribute with no value removes every value",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.AddUserAttribute(ctx, &pb.AddUserAttributeRequest{Username: bob, Name: "region", Value: "APAC"}); err != nil {
					return nil, err
				}
				return e.client.RemoveUserAttribute(ctx, &pb.RemoveUserAttributeRequest{Username: bob, Name: "region"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.RemoveUserAttributeResponse).GetUser().GetAttributes(); len(got) != 0 {
					t.Errorf("attributes = %v", got)
				}
			},
		},
		{
			name: "RemoveUserAttribute value not present",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveUserAttribute(ctx, &pb.RemoveUserAttributeRequest{Username: bob, Name: "region", Value: "APAC"})
			},
			code: codes.NotFound,
		},
		{
			name: "RemoveUserAttribute invalid name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveUserAttribute(ctx, &pb.RemoveUserAttributeRequest{Username: bob})
			},
			code: codes.InvalidArgument, msg: "name is required",
		},
		{
			name: "SetExternalId maps the Trino name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.SetExternalId(ctx, &pb.SetExternalIdRequest{Username: alice, Platform: "trino", ExternalUsername: "alice_t"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.SetExternalIdResponse).GetUser().GetExternalIds(); got["trino"] != "alice_t" {
					t.Errorf("external ids = %v", got)
				}
			},
		},
		{
			name: "SetExternalId name held by another user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.SetExternalId(ctx, &pb.SetExternalIdRequest{Username: alice, Platform: "trino", ExternalUsername: "bob"})
			},
			code: codes.AlreadyExists, msg: bob,
		},
		{
			name: "SetExternalId invalid platform",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.SetExternalId(ctx, &pb.SetExternalIdRequest{Username: alice, Platform: "-x", ExternalUsername: "a"})
			},
			code: codes.InvalidArgument,
		},
		{
			name: "SetExternalId unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.SetExternalId(ctx, &pb.SetExternalIdRequest{Username: "nobody@example.com", Platform: "trino", ExternalUsername: "n"})
			},
			code: codes.NotFound,
		},
		{
			name: "DeleteExternalId removes the mapping",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteExternalId(ctx, &pb.DeleteExternalIdRequest{Username: bob, Platform: "trino"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := e.getUser(t, bob).GetExternalIds(); len(got) != 0 {
					t.Errorf("external ids = %v", got)
				}
			},
		},
		{
			name: "DeleteExternalId not set",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteExternalId(ctx, &pb.DeleteExternalIdRequest{Username: alice, Platform: "trino"})
			},
			code: codes.NotFound,
		},
		{
			name: "DeleteExternalId invalid platform",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteExternalId(ctx, &pb.DeleteExternalIdRequest{Username: bob})
			},
			code: codes.InvalidArgument, msg: "platform is required",
		},
	})
}

func TestGroupRPCs(t *testing.T) {
	runCases(t, []rpcCase{
		{
			name: "CreateGroup",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateGroup(ctx, &pb.CreateGroupRequest{Name: "engineers", Description: "Eng", Email: "Eng@Example.com"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				g := resp.(*pb.CreateGroupResponse).GetGroup()
				if g.GetName() != "engineers" || g.GetDescription() != "Eng" || g.GetEmail() != "eng@example.com" || g.GetCreatedAt() == nil {
					t.Errorf("group = %v", g)
				}
			},
		},
		{
			name: "CreateGroup duplicate",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateGroup(ctx, &pb.CreateGroupRequest{Name: "analysts"})
			},
			code: codes.AlreadyExists, msg: "analysts",
		},
		{
			name: "CreateGroup invalid name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateGroup(ctx, &pb.CreateGroupRequest{Name: "no spaces"})
			},
			code: codes.InvalidArgument,
		},
		{
			name: "GetGroup returns members and attributes",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetGroup(ctx, &pb.GetGroupRequest{Name: "analysts"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				g := resp.(*pb.GetGroupResponse).GetGroup()
				if !slices.Equal(g.GetMembers(), []string{bob}) || !slices.Equal(g.GetAttributes()["region"].GetValues(), []string{"EMEA"}) {
					t.Errorf("group = %v", g)
				}
			},
		},
		{
			name: "GetGroup unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetGroup(ctx, &pb.GetGroupRequest{Name: "nope"})
			},
			code: codes.NotFound, msg: "nope",
		},
		{
			name: "ListGroups",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.CreateGroup(ctx, &pb.CreateGroupRequest{Name: "admins"}); err != nil {
					return nil, err
				}
				return e.client.ListGroups(ctx, &pb.ListGroupsRequest{})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				var names []string
				for _, g := range resp.(*pb.ListGroupsResponse).GetGroups() {
					names = append(names, g.GetName())
				}
				if !slices.Equal(names, []string{"admins", "analysts"}) {
					t.Errorf("groups = %v", names)
				}
			},
		},
		{
			name: "UpdateGroup",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.UpdateGroup(ctx, &pb.UpdateGroupRequest{Name: "analysts", Description: "Data analysts", Email: "data@example.com"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				g := e.getGroup(t, "analysts")
				if g.GetDescription() != "Data analysts" || g.GetEmail() != "data@example.com" {
					t.Errorf("group = %v", g)
				}
			},
		},
		{
			name: "UpdateGroup invalid email",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.UpdateGroup(ctx, &pb.UpdateGroupRequest{Name: "analysts", Email: "nope"})
			},
			code: codes.InvalidArgument, msg: "email",
		},
		{
			name: "UpdateGroup unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.UpdateGroup(ctx, &pb.UpdateGroupRequest{Name: "nope", Description: "x"})
			},
			code: codes.NotFound,
		},
		{
			name: "DeleteGroup",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteGroup(ctx, &pb.DeleteGroupRequest{Name: "analysts"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				_, err := e.client.GetGroup(e.as("boot"), &pb.GetGroupRequest{Name: "analysts"})
				expectCode(t, err, codes.NotFound, "")
				if g := e.getUser(t, bob).GetGroups(); len(g) != 0 {
					t.Errorf("bob still in groups %v", g)
				}
			},
		},
		{
			name: "DeleteGroup unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteGroup(ctx, &pb.DeleteGroupRequest{Name: "nope"})
			},
			code: codes.NotFound,
		},
		{
			name: "AddGroupMember",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupMember(ctx, &pb.AddGroupMemberRequest{Group: "analysts", Username: "Alice@Example.com"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.AddGroupMemberResponse).GetGroup().GetMembers(); !slices.Equal(got, []string{alice, bob}) {
					t.Errorf("members = %v", got)
				}
				if got := e.getUser(t, alice).GetGroups(); !slices.Equal(got, []string{"analysts"}) {
					t.Errorf("alice's groups = %v", got)
				}
			},
		},
		{
			name: "AddGroupMember invalid username",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupMember(ctx, &pb.AddGroupMemberRequest{Group: "analysts", Username: "alice"})
			},
			code: codes.InvalidArgument,
		},
		{
			name: "AddGroupMember unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupMember(ctx, &pb.AddGroupMemberRequest{Group: "analysts", Username: "nobody@example.com"})
			},
			code: codes.NotFound,
		},
		{
			name: "AddGroupMember unknown group",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupMember(ctx, &pb.AddGroupMemberRequest{Group: "nope", Username: alice})
			},
			code: codes.NotFound,
		},
		{
			name: "RemoveGroupMember",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveGroupMember(ctx, &pb.RemoveGroupMemberRequest{Group: "analysts", Username: bob})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.RemoveGroupMemberResponse).GetGroup().GetMembers(); len(got) != 0 {
					t.Errorf("members = %v", got)
				}
			},
		},
		{
			name: "RemoveGroupMember not a member",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveGroupMember(ctx, &pb.RemoveGroupMemberRequest{Group: "analysts", Username: alice})
			},
			code: codes.NotFound,
		},
		{
			name: "AddGroupAttribute",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupAttribute(ctx, &pb.AddGroupAttributeRequest{Group: "analysts", Name: "tier", Value: "gold"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				got := resp.(*pb.AddGroupAttributeResponse).GetGroup().GetAttributes()
				if !slices.Equal(got["tier"].GetValues(), []string{"gold"}) || !slices.Equal(got["region"].GetValues(), []string{"EMEA"}) {
					t.Errorf("attributes = %v", got)
				}
			},
		},
		{
			name: "AddGroupAttribute invalid",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupAttribute(ctx, &pb.AddGroupAttributeRequest{Group: "analysts", Name: "tier"})
			},
			code: codes.InvalidArgument, msg: "value is required",
		},
		{
			name: "AddGroupAttribute unknown group",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.AddGroupAttribute(ctx, &pb.AddGroupAttributeRequest{Group: "nope", Name: "tier", Value: "gold"})
			},
			code: codes.NotFound,
		},
		{
			name: "RemoveGroupAttribute",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveGroupAttribute(ctx, &pb.RemoveGroupAttributeRequest{Group: "analysts", Name: "region", Value: "EMEA"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := e.getGroup(t, "analysts").GetAttributes(); len(got) != 0 {
					t.Errorf("attributes = %v", got)
				}
			},
		},
		{
			name: "RemoveGroupAttribute not present",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveGroupAttribute(ctx, &pb.RemoveGroupAttributeRequest{Group: "analysts", Name: "tier"})
			},
			code: codes.NotFound,
		},
		{
			name: "RemoveGroupAttribute invalid name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.RemoveGroupAttribute(ctx, &pb.RemoveGroupAttributeRequest{Group: "analysts", Name: "a b"})
			},
			code: codes.InvalidArgument,
		},
	})
}

func TestIamRPCs(t *testing.T) {
	withSecret := func(e *env) *pb.Iam {
		return &pb.Iam{
			Id: "azure", DisplayName: "Azure AD",
			UserInfo:       &pb.UserInfoEndpoint{Uri: e.userInfoURL, Username: "svc", Password: "s3cret"},
			ProfileMapping: map[string]string{"trino": "preferred_username"},
		}
	}
	noPassword := func(t *testing.T, i *pb.Iam) {
		t.Helper()
		if i.GetUserInfo().GetPassword() != "" {
			t.Errorf("password returned: %v", i)
		}
	}
	runCases(t, []rpcCase{
		{
			name: "PutIam stores and never returns the password",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.PutIam(ctx, &pb.PutIamRequest{Iam: withSecret(e)})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				i := resp.(*pb.PutIamResponse).GetIam()
				noPassword(t, i)
				if i.GetUserInfo().GetUri() != e.userInfoURL || i.GetProfileMapping()["trino"] != "preferred_username" || i.GetCreatedAt() == nil {
					t.Errorf("iam = %v", i)
				}
				got, err := e.client.GetIam(e.as("boot"), &pb.GetIamRequest{Id: "azure"})
				if err != nil {
					t.Fatal(err)
				}
				noPassword(t, got.GetIam())
				if got.GetIam().GetUserInfo().GetUsername() != "svc" {
					t.Errorf("stored iam = %v", got.GetIam())
				}
				// The audit record of the write must not carry it either.
				audit, err := e.client.ListAudit(e.as("boot"), &pb.ListAuditRequest{Type: "iam.put", Target: "iam:azure"})
				if err != nil {
					t.Fatal(err)
				}
				if len(audit.GetRecords()) != 1 || strings.Contains(audit.GetRecords()[0].GetChanges(), "s3cret") {
					t.Errorf("audit = %v", audit.GetRecords())
				}
			},
		},
		{
			name: "PutIam keeps the stored password when it is not sent back",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.PutIam(ctx, &pb.PutIamRequest{Iam: withSecret(e)}); err != nil {
					return nil, err
				}
				got, err := e.client.GetIam(ctx, &pb.GetIamRequest{Id: "azure"})
				if err != nil {
					return nil, err
				}
				edited := got.GetIam()
				edited.DisplayName = "Entra ID"
				return e.client.PutIam(ctx, &pb.PutIamRequest{Iam: edited})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				err := e.st.View(context.Background(), func(r store.Reader) error {
					i, err := r.GetIAM(context.Background(), "azure")
					if err != nil {
						return err
					}
					if i.DisplayName != "Entra ID" || i.UserInfo == nil || i.UserInfo.Password != "s3cret" {
						t.Errorf("stored iam = %+v %+v", i, i.UserInfo)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "CreateIam",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateIam(ctx, &pb.CreateIamRequest{Iam: withSecret(e)})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				i := resp.(*pb.CreateIamResponse).GetIam()
				noPassword(t, i)
				if i.GetId() != "azure" || i.GetCreatedAt() == nil {
					t.Errorf("iam = %v", i)
				}
			},
		},
		{
			name: "CreateIam taken id",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateIam(ctx, &pb.CreateIamRequest{Iam: &pb.Iam{Id: "okta", DisplayName: "Okta again"}})
			},
			code: codes.AlreadyExists, msg: "okta",
			check: func(t *testing.T, e *env, resp proto.Message) {
				got, err := e.client.GetIam(e.as("boot"), &pb.GetIamRequest{Id: "okta"})
				if err != nil || got.GetIam().GetDisplayName() != "Okta" {
					t.Errorf("okta changed: %v, %v", got, err)
				}
			},
		},
		{
			name: "CreateIam invalid id",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateIam(ctx, &pb.CreateIamRequest{Iam: &pb.Iam{Id: "a b", DisplayName: "X"}})
			},
			code: codes.InvalidArgument,
		},
		{
			name: "PutIam without an iam",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.PutIam(ctx, &pb.PutIamRequest{})
			},
			code: codes.InvalidArgument, msg: "id is required",
		},
		{
			name: "PutIam without a display name",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.PutIam(ctx, &pb.PutIamRequest{Iam: &pb.Iam{Id: "azure"}})
			},
			code: codes.InvalidArgument, msg: "displayName is required",
		},
		{
			name: "GetIam",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetIam(ctx, &pb.GetIamRequest{Id: "okta"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if got := resp.(*pb.GetIamResponse).GetIam(); got.GetDisplayName() != "Okta" {
					t.Errorf("iam = %v", got)
				}
			},
		},
		{
			name: "GetIam unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetIam(ctx, &pb.GetIamRequest{Id: "nope"})
			},
			code: codes.NotFound,
		},
		{
			name: "ListIams never returns passwords",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.PutIam(ctx, &pb.PutIamRequest{Iam: withSecret(e)}); err != nil {
					return nil, err
				}
				return e.client.ListIams(ctx, &pb.ListIamsRequest{})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				var ids []string
				for _, i := range resp.(*pb.ListIamsResponse).GetIams() {
					noPassword(t, i)
					ids = append(ids, i.GetId())
				}
				slices.Sort(ids)
				if !slices.Equal(ids, []string{"azure", "bim", "okta"}) {
					t.Errorf("iams = %v", ids)
				}
			},
		},
		{
			name: "DeleteIam",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteIam(ctx, &pb.DeleteIamRequest{Id: "okta"})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				_, err := e.client.GetIam(e.as("boot"), &pb.GetIamRequest{Id: "okta"})
				expectCode(t, err, codes.NotFound, "")
			},
		},
		{
			name: "DeleteIam built-in",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteIam(ctx, &pb.DeleteIamRequest{Id: "bim"})
			},
			code: codes.InvalidArgument, msg: "cannot be deleted",
		},
		{
			name: "DeleteIam still in use",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.MigrateUser(ctx, &pb.MigrateUserRequest{Username: bob, Iam: "okta"}); err != nil {
					return nil, err
				}
				return e.client.DeleteIam(ctx, &pb.DeleteIamRequest{Id: "okta"})
			},
			code: codes.AlreadyExists, msg: "okta",
		},
		{
			name: "DeleteIam unknown",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteIam(ctx, &pb.DeleteIamRequest{Id: "nope"})
			},
			code: codes.NotFound,
		},
	})
}

func TestTokenRPCs(t *testing.T) {
	runCases(t, []rpcCase{
		{
			name: "CreateToken for another user, with a lifetime",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: alice, Description: "laptop", Ttl: durationpb.New(time.Hour)})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				r := resp.(*pb.CreateTokenResponse)
				tok := r.GetToken()
				if !strings.HasPrefix(r.GetSecret(), "ghs_") || tok.GetUsername() != alice || tok.GetDescription() != "laptop" {
					t.Errorf("token = %v", r)
				}
				if d := tok.GetExpiresAt().AsTime().Sub(tok.GetCreatedAt().AsTime()); d != time.Hour {
					t.Errorf("lifetime = %v", d)
				}
				got, err := e.client.GetUser(bearerCtx(context.Background(), r.GetSecret()), &pb.GetUserRequest{Username: alice})
				if err != nil || got.GetUser().GetEmail() != alice {
					t.Errorf("the new token does not authenticate: %v", err)
				}
			},
		},
		{
			name: "CreateToken without a lifetime never expires",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: alice})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if tok := resp.(*pb.CreateTokenResponse).GetToken(); tok.GetExpiresAt() != nil {
					t.Errorf("expires = %v", tok.GetExpiresAt())
				}
			},
		},
		{
			// A user minting their own token could turn a short-lived token
			// into an everlasting one, so it takes USER_ADMIN too.
			name: "CreateToken for oneself needs USER_ADMIN",
			as:   "alice",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: alice})
			},
			code: codes.PermissionDenied, msg: "USER_ADMIN",
		},
		{
			name: "CreateToken negative lifetime",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: alice, Ttl: durationpb.New(-time.Minute)})
			},
			code: codes.InvalidArgument, msg: "ttl",
		},
		{
			name: "CreateToken malformed duration",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: alice, Ttl: &durationpb.Duration{Seconds: 1, Nanos: -1}})
			},
			code: codes.InvalidArgument, msg: "ttl is not a valid duration",
		},
		{
			name: "CreateToken unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.CreateToken(ctx, &pb.CreateTokenRequest{Username: "nobody@example.com"})
			},
			code: codes.NotFound,
		},
		{
			name: "ListTokens never shows secrets",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListTokens(ctx, &pb.ListTokensRequest{Username: bob})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				toks := resp.(*pb.ListTokensResponse).GetTokens()
				if len(toks) != 1 || toks[0].GetId() != e.bobTokenID {
					t.Fatalf("tokens = %v", toks)
				}
				b, _ := proto.Marshal(resp)
				if bytes.Contains(b, []byte(e.tokens["bob"])) {
					t.Error("secret in ListTokens answer")
				}
			},
		},
		{
			name: "ListTokens of oneself",
			as:   "bob",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListTokens(ctx, &pb.ListTokensRequest{Username: bob})
			},
		},
		{
			name: "ListTokens unknown user",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListTokens(ctx, &pb.ListTokensRequest{Username: "nobody@example.com"})
			},
			code: codes.NotFound,
		},
		{
			name: "DeleteToken revokes it at once",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteToken(ctx, &pb.DeleteTokenRequest{Username: bob, Id: e.bobTokenID})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				_, err := e.client.GetUser(e.as("bob"), &pb.GetUserRequest{Username: bob})
				expectCode(t, err, codes.Unauthenticated, "")
			},
		},
		{
			name: "DeleteToken of oneself",
			as:   "bob",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteToken(ctx, &pb.DeleteTokenRequest{Username: bob, Id: e.bobTokenID})
			},
		},
		{
			name: "DeleteToken unknown id",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteToken(ctx, &pb.DeleteTokenRequest{Username: bob, Id: "tok_nope"})
			},
			code: codes.NotFound, msg: "tok_nope",
		},
		{
			name: "DeleteToken of another user's token id",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.DeleteToken(ctx, &pb.DeleteTokenRequest{Username: alice, Id: e.bobTokenID})
			},
			code: codes.NotFound,
			check: func(t *testing.T, e *env, resp proto.Message) {
				if _, err := e.client.GetUser(e.as("bob"), &pb.GetUserRequest{Username: bob}); err != nil {
					t.Errorf("bob's token was deleted through alice: %v", err)
				}
			},
		},
	})
}

func TestAuditAndUsageRPCs(t *testing.T) {
	runCases(t, []rpcCase{
		{
			name: "ListAudit with USER_ADMIN, newest first, changes as JSON",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListAudit(ctx, &pb.ListAuditRequest{Type: "user."})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				recs := resp.(*pb.ListAuditResponse).GetRecords()
				if len(recs) == 0 {
					t.Fatal("no records")
				}
				for i, r := range recs {
					if !strings.HasPrefix(r.GetType(), "user.") || r.GetActor() != admin.BootstrapActor || r.GetTime() == nil {
						t.Errorf("record = %v", r)
					}
					if r.GetChanges() != "" && !json.Valid([]byte(r.GetChanges())) {
						t.Errorf("changes not JSON: %q", r.GetChanges())
					}
					if i > 0 && r.GetId() >= recs[i-1].GetId() {
						t.Errorf("not newest first: %d after %d", r.GetId(), recs[i-1].GetId())
					}
				}
			},
		},
		{
			name: "ListAudit with AUDIT",
			as:   "auditor",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListAudit(ctx, &pb.ListAuditRequest{Limit: 2})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if n := len(resp.(*pb.ListAuditResponse).GetRecords()); n != 2 {
					t.Errorf("got %d records, want 2", n)
				}
			},
		},
		{
			name: "ListAudit pages with before and filters by time",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				first, err := e.client.ListAudit(ctx, &pb.ListAuditRequest{Limit: 1})
				if err != nil {
					return nil, err
				}
				return e.client.ListAudit(ctx, &pb.ListAuditRequest{
					Before: first.GetRecords()[0].GetId(), Limit: 1,
					Since: timestamppb.New(time.Now().Add(-time.Hour)), Until: timestamppb.New(time.Now().Add(time.Hour)),
				})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				if n := len(resp.(*pb.ListAuditResponse).GetRecords()); n != 1 {
					t.Errorf("got %d records, want 1", n)
				}
			},
		},
		{
			name: "ListAudit limit out of range",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListAudit(ctx, &pb.ListAuditRequest{Limit: 5000})
			},
			code: codes.InvalidArgument, msg: "limit",
		},
		{
			name: "ListAudit malformed timestamp",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ListAudit(ctx, &pb.ListAuditRequest{Since: &timestamppb.Timestamp{Nanos: -5}})
			},
			code: codes.InvalidArgument, msg: "since is not a valid timestamp",
		},
		{
			name: "GetUsageMetrics counts today's workflows",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUsageMetrics(ctx, &pb.GetUsageMetricsRequest{Days: 3})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				rep := resp.(*pb.GetUsageMetricsResponse).GetReport()
				if rep.GetDays() != 3 || len(rep.GetDaily()) != 3 || rep.GetGeneratedAt() == nil ||
					rep.GetFromDay() != rep.GetDaily()[0].GetDay() || rep.GetToDay() != rep.GetDaily()[2].GetDay() {
					t.Fatalf("report = %v", rep)
				}
				// Summed over the days, so a run across midnight still passes.
				var users, tokens int64
				for _, d := range rep.GetDaily() {
					users += d.GetCounts()["users_created"]
					tokens += d.GetCounts()["tokens_created"]
				}
				if users != 3 || tokens != 3 {
					t.Errorf("users_created = %d, tokens_created = %d, want 3 and 3: %v", users, tokens, rep.GetDaily())
				}
				b, _ := proto.Marshal(rep)
				if bytes.Contains(b, []byte("example.com")) {
					t.Error("usage report names a user")
				}
			},
		},
		{
			name: "GetUsageMetrics with AUDIT",
			as:   "auditor",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUsageMetrics(ctx, &pb.GetUsageMetricsRequest{Days: 1})
			},
		},
		{
			name: "GetUsageMetrics days=0",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUsageMetrics(ctx, &pb.GetUsageMetricsRequest{})
			},
			code: codes.InvalidArgument, msg: "days must be between 1 and 365",
		},
		{
			name: "ReloadPolicies is audited",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.ReloadPolicies(ctx, &pb.ReloadPoliciesRequest{})
			},
			check: func(t *testing.T, e *env, resp proto.Message) {
				recs, err := e.client.ListAudit(e.as("boot"), &pb.ListAuditRequest{Type: "policy.reload"})
				if err != nil {
					t.Fatal(err)
				}
				if len(recs.GetRecords()) != 1 || !strings.Contains(recs.GetRecords()[0].GetChanges(), "success") {
					t.Errorf("audit = %v", recs.GetRecords())
				}
			},
		},
		{
			name: "ReloadPolicies with GOVERNANCE",
			as:   "alice",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				if _, err := e.client.GrantPermission(e.as("boot"), &pb.GrantPermissionRequest{Username: alice, Permission: "GOVERNANCE"}); err != nil {
					return nil, err
				}
				return e.client.ReloadPolicies(ctx, &pb.ReloadPoliciesRequest{})
			},
		},
		{
			name: "ReloadPolicies rejected bundle says why",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				msg := "policies/trino.rego:3: rego_parse_error"
				e.reloadErr.Store(&msg)
				return e.client.ReloadPolicies(ctx, &pb.ReloadPoliciesRequest{})
			},
			code: codes.InvalidArgument, msg: "rego_parse_error",
		},
		{
			name: "GetUsageMetrics days=366",
			call: func(ctx context.Context, e *env) (proto.Message, error) {
				return e.client.GetUsageMetrics(ctx, &pb.GetUsageMetricsRequest{Days: 366})
			},
			code: codes.InvalidArgument,
		},
	})
}

// TestInvalidArgumentNamesField checks the BadRequest detail that lets a
// client highlight the offending input.
func TestInvalidArgumentNamesField(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.CreateUser(e.as("boot"), &pb.CreateUserRequest{Email: "carol@example.com"})
	st := expectCode(t, err, codes.InvalidArgument, "fullName is required")
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if !slices.Equal(fields, []string{"fullName"}) {
		t.Errorf("field violations = %v (details %v)", fields, st.Details())
	}
}

func TestAuthorizationMetadata(t *testing.T) {
	e := newEnv(t)
	listAs := func(md ...string) error {
		ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
		_, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{})
		return err
	}
	cases := []struct {
		name string
		md   []string
		code codes.Code
		msg  string
	}{
		{"no header", nil, codes.Unauthenticated, "missing bearer token"},
		{"lower-case scheme", []string{"authorization", "bearer " + bootToken}, codes.OK, ""},
		{"basic scheme", []string{"authorization", "Basic " + bootToken}, codes.Unauthenticated, `must be "Bearer <token>"`},
		{"scheme only", []string{"authorization", "Bearer"}, codes.Unauthenticated, `must be "Bearer <token>"`},
		{"two headers", []string{"authorization", "Bearer " + bootToken, "authorization", "Bearer " + bootToken}, codes.Unauthenticated, "exactly one"},
		{"unknown token", []string{"authorization", "Bearer " + bootToken + "x"}, codes.Unauthenticated, "invalid or expired token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectCode(t, listAs(c.md...), c.code, c.msg)
		})
	}

	t.Run("other services need no token", func(t *testing.T) {
		resp, err := e.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health = %v, %v", resp, err)
		}
	})
}

// TestRequestID checks that the request id reaches the audit log and the
// caller, whether the caller chose it or not.
func TestRequestID(t *testing.T) {
	hexID := regexp.MustCompile(`^[0-9a-f]{16}$`)
	cases := []struct {
		name string
		sent string // "" sends none
		want func(string) bool
	}{
		{"caller's id is kept", "req-42", func(s string) bool { return s == "req-42" }},
		{"fresh id when none is sent", "", hexID.MatchString},
		{"fresh id for one with whitespace", "two words", hexID.MatchString},
		{"fresh id for an overlong one", strings.Repeat("x", 129), hexID.MatchString},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := e.as("boot")
			if c.sent != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", c.sent)
			}
			var header metadata.MD
			if _, err := e.client.CreateUser(ctx, &pb.CreateUserRequest{Email: "carol@example.com", FullName: "Carol"}, grpc.Header(&header)); err != nil {
				t.Fatal(err)
			}
			got := header.Get("x-request-id")
			if len(got) != 1 || !c.want(got[0]) {
				t.Fatalf("x-request-id header = %q", got)
			}
			recs, err := e.client.ListAudit(e.as("boot"), &pb.ListAuditRequest{Target: "user:carol@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs.GetRecords()) != 1 || recs.GetRecords()[0].GetRequestId() != got[0] {
				t.Errorf("audit = %v, want request id %q", recs.GetRecords(), got[0])
			}
		})
	}

	t.Run("errors carry the id too", func(t *testing.T) {
		e := newEnv(t)
		var header metadata.MD
		_, err := e.client.GetUser(context.Background(), &pb.GetUserRequest{Username: bob}, grpc.Header(&header))
		expectCode(t, err, codes.Unauthenticated, "")
		if got := header.Get("x-request-id"); len(got) != 1 || !hexID.MatchString(got[0]) {
			t.Errorf("x-request-id header = %q", got)
		}
	})
}

// syncBuffer is a log destination safe to write from server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestInternalErrorsAreNotSent breaks the store for real (closes it) and
// checks the caller gets Internal with only a request id, while the cause
// goes to the log.
func TestInternalErrorsAreNotSent(t *testing.T) {
	var logs syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	e := newEnv(t)
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := metadata.AppendToOutgoingContext(e.as("boot"), "x-request-id", "req-internal")
	_, err := e.client.ListUsers(ctx, &pb.ListUsersRequest{})
	st := expectCode(t, err, codes.Internal, "")
	if want := "internal error; see the server log for request req-internal"; st.Message() != want {
		t.Errorf("message = %q, want %q", st.Message(), want)
	}
	if len(st.Details()) != 0 {
		t.Errorf("details sent: %v", st.Details())
	}
	if out := logs.String(); !strings.Contains(out, "req-internal") || !strings.Contains(out, "closed") {
		t.Errorf("cause not logged with the request id: %q", out)
	}
}

// TestWithoutInterceptorFailsClosed: a server wired without the interceptor
// must refuse every call rather than run it unauthenticated.
func TestWithoutInterceptorFailsClosed(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := admin.New(st, admin.WithBootstrapToken(bootToken))
	srv := grpc.NewServer()
	Register(srv, svc)
	client := pb.NewAdminServiceClient(serve(t, srv))
	_, err = client.ListUsers(bearerCtx(context.Background(), bootToken), &pb.ListUsersRequest{})
	expectCode(t, err, codes.Internal, "internal error")
}

// TestToStatus covers the error mapping for shapes a real store does not
// easily produce: bare and wrapped sentinels, and foreign errors.
func TestToStatus(t *testing.T) {
	ctx := admin.WithRequestID(context.Background(), "rid")
	cases := []struct {
		name string
		err  error
		code codes.Code
		msg  string
	}{
		{"domain error", directory.Invalid("email", "email is required"), codes.InvalidArgument, "email is required"},
		{"wrapped domain error", fmt.Errorf("create: %w", directory.NotFound("user", "x@y.z")), codes.NotFound, `user "x@y.z" not found`},
		{"bare sentinel", directory.ErrUnauthenticated, codes.Unauthenticated, "unauthenticated: send authorization: Bearer <token>"},
		{"wrapped sentinel keeps its text private", fmt.Errorf("UNIQUE constraint users.email: %w", directory.ErrConflict), codes.AlreadyExists, "already exists"},
		{"denied", directory.Denied("no"), codes.PermissionDenied, "no"},
		{"foreign error", errors.New("disk on fire"), codes.Internal, "internal error; see the server log for request rid"},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), codes.Canceled, "request canceled"},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, "deadline exceeded"},
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(prev) })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := status.Convert(toStatus(ctx, c.err))
			if st.Code() != c.code || st.Message() != c.msg {
				t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), c.code, c.msg)
			}
		})
	}
}
