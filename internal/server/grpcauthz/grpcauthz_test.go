package grpcauthz_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/config"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/server/servertest"
)

// The tests run a whole gatehouse (real store, shipped policies, the gRPC
// server as `serve` wires it) and call it through the generated stubs, so they
// check what a client sees on the wire — and that server.New registers the
// services. Requests and expected answers are in testdata/check.json.

var boot = admin.Principal{Username: admin.BootstrapActor, Bootstrap: true}

type directorySpec struct {
	IAMs  []string   `json:"iams"`
	Users []userSpec `json:"users"`
}

type userSpec struct {
	Email       string   `json:"email"`
	Trino       string   `json:"trino"`
	IAM         string   `json:"iam"`
	UserID      string   `json:"userId"`
	Permissions []string `json:"permissions"`
	Disabled    bool     `json:"disabled"`
}

// start runs a gatehouse seeded with spec and returns a connection to its
// gRPC port.
func start(t *testing.T, spec directorySpec, opts ...func(*config.Config)) *grpc.ClientConn {
	t.Helper()
	srv := servertest.Start(t, "", opts...)
	ctx := context.Background()
	a := srv.Admin()
	for _, id := range spec.IAMs {
		if _, err := a.CreateIAM(ctx, boot, directory.IAM{ID: id, DisplayName: id}); err != nil {
			t.Fatalf("creating IAM %s: %v", id, err)
		}
	}
	for _, u := range spec.Users {
		if _, err := a.CreateUser(ctx, boot, admin.CreateUserRequest{Email: u.Email, FullName: u.Email, IAM: u.IAM, UserID: u.UserID}); err != nil {
			t.Fatalf("creating %s: %v", u.Email, err)
		}
		if u.Trino != "" {
			if _, err := a.SetExternalID(ctx, boot, u.Email, directory.PlatformTrino, u.Trino); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range u.Permissions {
			if _, err := a.GrantPermission(ctx, boot, u.Email, p); err != nil {
				t.Fatal(err)
			}
		}
		if u.Disabled {
			if _, err := a.SetDisabled(ctx, boot, u.Email, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestCheck(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "check.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		directorySpec
		Cases []struct {
			Name    string          `json:"name"`
			Request json.RawMessage `json:"request"`
			Want    *struct {
				Allowed           bool   `json:"allowed"`
				User              string `json:"user"`
				ImpersonationUser string `json:"impersonationUser"`
				ReasonContains    string `json:"reasonContains"`
			} `json:"want"`
			Code            string `json:"code"`
			MessageContains string `json:"messageContains"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	client := pb.NewAuthorizerServiceClient(start(t, spec.directorySpec))
	for _, c := range spec.Cases {
		t.Run(c.Name, func(t *testing.T) {
			req := &pb.CheckRequest{}
			if err := protojson.Unmarshal(c.Request, req); err != nil {
				t.Fatalf("request: %v", err)
			}
			resp, err := client.Check(t.Context(), req)
			if c.Code != "" {
				st := status.Convert(err)
				if st.Code().String() != c.Code || !strings.Contains(st.Message(), c.MessageContains) {
					t.Fatalf("status %s %q, want %s containing %q", st.Code(), st.Message(), c.Code, c.MessageContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := c.Want
			if resp.GetAllowed() != w.Allowed || resp.GetUser() != w.User || resp.GetImpersonationUser() != w.ImpersonationUser {
				t.Errorf("got allowed=%v user=%q impersonationUser=%q reason=%q; want %+v",
					resp.GetAllowed(), resp.GetUser(), resp.GetImpersonationUser(), resp.GetReason(), *w)
			}
			if !strings.Contains(resp.GetReason(), w.ReasonContains) {
				t.Errorf("reason %q does not contain %q", resp.GetReason(), w.ReasonContains)
			}
			if resp.GetAllowed() && resp.GetReason() != "" {
				t.Errorf("allowed with a reason %q", resp.GetReason())
			}
		})
	}
}

// SessionService over the wire: the semantics are internal/session's (tested
// there case by case); this checks the adapter — fields, modes, error codes
// and details.
func TestSessionService(t *testing.T) {
	spec := directorySpec{IAMs: []string{"okta"}, Users: []userSpec{
		{Email: "john.doe@corp.example", Trino: "jdoe", IAM: "okta", UserID: "jdoe@example.com"},
	}}
	ctx := t.Context()

	for _, mode := range []string{"session", "strict"} {
		t.Run(mode, func(t *testing.T) {
			client := pb.NewSessionServiceClient(start(t, spec, func(c *config.Config) { c.ImpersonationMode = mode }))
			props := map[string]string{"query_max_run_time": "1h"}

			set, err := client.Set(ctx, &pb.SetRequest{Properties: props, Name: "gatehouse.impersonate_user", Value: "alice"})
			if err != nil || !maps.Equal(set.GetSet(), map[string]string{"gatehouse.impersonate_user": "alice"}) {
				t.Fatalf("Set: %v, %v", set, err)
			}
			props["gatehouse.impersonate_user"] = "alice"

			show, err := client.Show(ctx, &pb.ShowRequest{Properties: props, Like: "gatehouse.impersonate%"})
			if err != nil || len(show.GetRows()) != 1 || show.GetRows()[0].GetValue() != "alice" || show.GetRows()[0].GetType() != "varchar" {
				t.Fatalf("Show: %v, %v", show, err)
			}
			if _, err := client.Show(ctx, &pb.ShowRequest{Like: "x", Escape: "ab"}); status.Code(err) != codes.InvalidArgument {
				t.Errorf("Show with a two-character escape: %v, want InvalidArgument", err)
			}

			_, err = client.Set(ctx, &pb.SetRequest{Properties: props, Name: "gatehouse.impersonate_user", Value: "bob"})
			if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "alice") {
				t.Errorf("switching: %v, want FailedPrecondition naming alice", err)
			}

			reset, err := client.Reset(ctx, &pb.ResetRequest{Properties: props, Name: "gatehouse.impersonate_user"})
			if mode == "session" {
				if err != nil || !slices.Equal(reset.GetClear(), []string{"gatehouse.impersonate_user"}) {
					t.Errorf("Reset: %v, %v", reset, err)
				}
			} else if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "new connection") {
				t.Errorf("Reset in strict mode: %v, want FailedPrecondition with a new-connection hint", err)
			}

			_, err = client.Set(ctx, &pb.SetRequest{Name: "gatehouse.impersonate", Value: "x"})
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("unknown property: %v, want InvalidArgument", err)
			}
			var field string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) == 1 {
					field = br.GetFieldViolations()[0].GetField()
				}
			}
			if field != "gatehouse.impersonate" {
				t.Errorf("BadRequest field %q, want the property", field)
			}
		})
	}

	client := pb.NewSessionServiceClient(start(t, spec))
	for _, c := range []struct {
		props map[string]string
		want  *pb.ResolveResponse
		code  codes.Code
	}{
		{map[string]string{}, &pb.ResolveResponse{}, codes.OK},
		{map[string]string{"gatehouse.impersonate_user": "stranger"}, &pb.ResolveResponse{Impersonating: true, TrinoUser: "stranger"}, codes.OK},
		{map[string]string{"gatehouse.impersonate_user": "John.Doe@corp.example"}, &pb.ResolveResponse{Impersonating: true, TrinoUser: "jdoe", Username: "john.doe@corp.example"}, codes.OK},
		{map[string]string{"gatehouse.impersonation_iamid": "okta", "gatehouse.impersonation_userid": "jdoe", "gatehouse.impersonation_userid_template": "{userid}@example.com"},
			&pb.ResolveResponse{Impersonating: true, TrinoUser: "jdoe", Username: "john.doe@corp.example"}, codes.OK},
		{map[string]string{"gatehouse.impersonation_iamid": "okta", "gatehouse.impersonation_userid": "jdoe"}, nil, codes.NotFound},
	} {
		got, err := client.Resolve(ctx, &pb.ResolveRequest{Properties: c.props})
		if status.Code(err) != c.code {
			t.Errorf("Resolve(%v): %v, want %s", c.props, err, c.code)
			continue
		}
		if c.want != nil && (got.GetImpersonating() != c.want.GetImpersonating() || got.GetTrinoUser() != c.want.GetTrinoUser() || got.GetUsername() != c.want.GetUsername()) {
			t.Errorf("Resolve(%v) = %v, want %v", c.props, got, c.want)
		}
	}
}
