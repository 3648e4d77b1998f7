package grpcauthz

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatehousev1 "github.com/gatehouse-authz/gatehouse/gen/gatehouse/v1"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/session"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

// EndpointCheck labels AuthorizerService.Check decisions in metrics and audit
// records, apart from Trino's own /v1/data/trino/allow.
const EndpointCheck = "check"

// softwareStack is what Check tells policies about its caller, in the place
// Trino puts its version.
var softwareStack = map[string]any{"trinoVersion": "gatehouse-grpc"}

// Authorizer implements gatehousev1.AuthorizerServiceServer.
type Authorizer struct {
	gatehousev1.UnimplementedAuthorizerServiceServer

	authz *authz.Authorizer
	dir   session.Directory
	log   *slog.Logger
}

// NewAuthorizer returns the AuthorizerService implementation.
func NewAuthorizer(a *authz.Authorizer, dir session.Directory, log *slog.Logger) *Authorizer {
	return &Authorizer{authz: a, dir: dir, log: log}
}

// Check decides one operation. Under a session impersonation it makes the two
// checks Trino makes for every query of such a session, in Trino's order:
// ImpersonateUser(identity → target), then the operation as the target with
// no groups of its own (the directory's are added by the policies), so the
// impersonator's privileges never leak into the answer.
func (a *Authorizer) Check(ctx context.Context, req *gatehousev1.CheckRequest) (*gatehousev1.CheckResponse, error) {
	id := req.GetIdentity()
	if id.GetUser() == "" {
		return nil, status.Error(codes.InvalidArgument, "identity.user is required: the Trino user the check is for")
	}
	if _, known := trino.Operations[req.GetOperation()]; !known {
		return nil, status.Errorf(codes.InvalidArgument, "unknown operation %q: use one of the operations Trino's opa access control sends, e.g. SelectFromColumns", truncate(req.GetOperation()))
	}
	imp, err := session.Resolve(ctx, a.dir, session.FromMap(req.GetSessionProperties()))
	if err != nil {
		return nil, toStatus(ctx, a.log, "Check", err)
	}
	user, groups := id.GetUser(), id.GetGroups()
	resp := &gatehousev1.CheckResponse{User: user}
	if imp.Active && imp.TrinoUser != user {
		resp.User, resp.ImpersonationUser = imp.TrinoUser, user
		ok, reason, err := a.decide(ctx, user, groups, "ImpersonateUser",
			map[string]any{"user": map[string]any{"user": imp.TrinoUser}}, "")
		if err != nil {
			return nil, toStatus(ctx, a.log, "Check", err)
		}
		if !ok {
			resp.Reason = fmt.Sprintf("%s may not impersonate %s", user, imp.TrinoUser)
			if reason != "" {
				resp.Reason += ": " + reason
			}
			return resp, nil
		}
		user, groups = imp.TrinoUser, nil
	}
	ok, reason, err := a.decide(ctx, user, groups, req.GetOperation(), resourceJSON(req.GetResource()), req.GetQueryId())
	if err != nil {
		return nil, toStatus(ctx, a.log, "Check", err)
	}
	resp.Allowed = ok
	if !ok {
		resp.Reason = reason
	}
	return resp, nil
}

// decide evaluates the allow entry point for one request built the way Trino
// builds it, checked by the same decoder that checks Trino's, and records the
// decision.
func (a *Authorizer) decide(ctx context.Context, user string, groups []string, op string, resource map[string]any, queryID string) (bool, string, error) {
	start := time.Now()
	if groups == nil {
		groups = []string{}
	}
	ctxObj := map[string]any{"identity": map[string]any{"user": user, "groups": groups}, "softwareStack": softwareStack}
	if queryID != "" {
		ctxObj["queryId"] = queryID
	}
	action := map[string]any{"operation": op}
	if len(resource) > 0 {
		action["resource"] = resource
	}
	body, err := json.Marshal(map[string]any{"input": map[string]any{"context": ctxObj, "action": action}})
	if err != nil {
		return false, "", err
	}
	req, err := trino.Decode(body, trino.EndpointAllow)
	if err != nil {
		return false, "", err
	}
	d := authz.Decision{Endpoint: EndpointCheck, Operation: op, User: user, QueryID: queryID,
		Resource: req.Describe(), Target: req.Target()}
	v, defined, err := a.authz.Eval(ctx, trino.EndpointAllow, req.Input)
	ok, isBool := v.(bool)
	if err == nil && defined && !isBool {
		err = fmt.Errorf("policy answered %T for allow, not a boolean", v)
	}
	d.Duration = time.Since(start)
	if err != nil {
		d.Result, d.Error = authz.ResultError, err.Error()
		a.authz.Record(d)
		return false, "", err
	}
	var reason string
	d.Result = authz.ResultAllow
	if !ok {
		reason = a.authz.Reason(ctx, req.Input)
		d.Result, d.Rule = authz.ResultDeny, reason
	}
	a.authz.Record(d)
	return ok, reason, nil
}

// resourceJSON is r in the shape of Trino's `resource` object: only the
// fields that are set, under Trino's names.
func resourceJSON(r *gatehousev1.Resource) map[string]any {
	out := map[string]any{}
	put := func(kind string, fields ...any) {
		obj := map[string]any{}
		for i := 0; i+1 < len(fields); i += 2 {
			switch v := fields[i+1].(type) {
			case string:
				if v != "" {
					obj[fields[i].(string)] = v
				}
			case []string:
				if len(v) > 0 {
					obj[fields[i].(string)] = v
				}
			}
		}
		out[kind] = obj
	}
	if u := r.GetUser(); u != nil {
		put("user", "user", u.GetUser(), "groups", u.GetGroups())
	}
	if c := r.GetCatalog(); c != nil {
		put("catalog", "name", c.GetName())
	}
	if s := r.GetSchema(); s != nil {
		put("schema", "catalogName", s.GetCatalogName(), "schemaName", s.GetSchemaName())
	}
	if t := r.GetTable(); t != nil {
		put("table", "catalogName", t.GetCatalogName(), "schemaName", t.GetSchemaName(), "tableName", t.GetTableName(), "columns", t.GetColumns())
	}
	if c := r.GetColumn(); c != nil {
		put("column", "catalogName", c.GetCatalogName(), "schemaName", c.GetSchemaName(), "tableName", c.GetTableName(),
			"columnName", c.GetColumnName(), "columnType", c.GetColumnType())
	}
	if f := r.GetFunction(); f != nil {
		put("function", "catalogName", f.GetCatalogName(), "schemaName", f.GetSchemaName(), "functionName", f.GetFunctionName())
	}
	if p := r.GetSystemSessionProperty(); p != nil {
		put("systemSessionProperty", "name", p.GetName())
	}
	if p := r.GetCatalogSessionProperty(); p != nil {
		put("catalogSessionProperty", "catalogName", p.GetCatalogName(), "propertyName", p.GetPropertyName())
	}
	return out
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
