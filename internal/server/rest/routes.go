package rest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/audit"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

func (a *API) routes() {
	// Users.
	a.handle("POST /api/v1/users", a.createUser)
	a.handle("GET /api/v1/users", a.listUsers)
	a.handle("GET /api/v1/users/{username}", a.getUser)
	a.handle("PATCH /api/v1/users/{username}", a.updateUser)
	a.handle("POST /api/v1/users/{action}", a.userAction) // {username}:disable|enable|migrate|sync
	a.handle("DELETE /api/v1/users/{username}", a.deleteUser)
	a.handle("POST /api/v1/users/{username}/permissions", a.grant)
	a.handle("DELETE /api/v1/users/{username}/permissions/{permission}", a.revoke)
	a.handle("POST /api/v1/users/{username}/attributes", a.addUserAttribute)
	a.handle("DELETE /api/v1/users/{username}/attributes/{name}", a.removeUserAttribute)
	a.handle("DELETE /api/v1/users/{username}/attributes/{name}/{value}", a.removeUserAttribute)
	a.handle("PUT /api/v1/users/{username}/external-ids/{platform}", a.setExternalID)
	a.handle("DELETE /api/v1/users/{username}/external-ids/{platform}", a.deleteExternalID)
	a.handle("POST /api/v1/users/{username}/tokens", a.createToken)
	a.handle("GET /api/v1/users/{username}/tokens", a.listTokens)
	a.handle("DELETE /api/v1/users/{username}/tokens/{id}", a.deleteToken)
	// Groups.
	a.handle("POST /api/v1/groups", a.createGroup)
	a.handle("GET /api/v1/groups", a.listGroups)
	a.handle("GET /api/v1/groups/{name}", a.getGroup)
	a.handle("PATCH /api/v1/groups/{name}", a.updateGroup)
	a.handle("DELETE /api/v1/groups/{name}", a.deleteGroup)
	a.handle("POST /api/v1/groups/{name}/members", a.addMember)
	a.handle("DELETE /api/v1/groups/{name}/members/{username}", a.removeMember)
	a.handle("POST /api/v1/groups/{name}/attributes", a.addGroupAttribute)
	a.handle("DELETE /api/v1/groups/{name}/attributes/{attr}", a.removeGroupAttribute)
	a.handle("DELETE /api/v1/groups/{name}/attributes/{attr}/{value}", a.removeGroupAttribute)
	// Identity providers.
	a.handle("POST /api/v1/iams", a.createIAM)
	a.handle("GET /api/v1/iams", a.listIAMs)
	a.handle("GET /api/v1/iams/{id}", a.getIAM)
	a.handle("PUT /api/v1/iams/{id}", a.putIAM)
	a.handle("DELETE /api/v1/iams/{id}", a.deleteIAM)
	// Anything else under /api/v1 is a JSON 404, not the mux's plain text.
	a.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, Error{Code: "not_found", Message: "no such API call: " + r.Method + " " + r.URL.Path})
	})
	// Audit and usage.
	a.handle("GET /api/v1/audit", a.listAudit)
	a.handle("GET /api/v1/usage-metrics", a.usageMetrics)
	// Policies.
	a.handle("POST /api/v1/policies:reload", a.reloadPolicies)
}

// UsersPage is the answer of GET /api/v1/users.
type UsersPage struct {
	Users []directory.User `json:"users"`
}

func (a *API) createUser(r *http.Request, p admin.Principal) (any, int, error) {
	var req admin.CreateUserRequest
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	u, err := a.svc.CreateUser(r.Context(), p, req)
	return u, http.StatusCreated, err
}

func (a *API) listUsers(r *http.Request, p admin.Principal) (any, int, error) {
	q := r.URL.Query()
	inc, err := boolParam(q.Get("includeDisabled"), "includeDisabled")
	if err != nil {
		return nil, 0, err
	}
	us, err := a.svc.ListUsers(r.Context(), p, admin.ListUsersRequest{IncludeDisabled: inc, IAM: q.Get("iam")})
	return UsersPage{Users: us}, http.StatusOK, err
}

func (a *API) getUser(r *http.Request, p admin.Principal) (any, int, error) {
	u, err := a.svc.GetUser(r.Context(), p, r.PathValue("username"))
	return u, http.StatusOK, err
}

func (a *API) updateUser(r *http.Request, p admin.Principal) (any, int, error) {
	var req struct {
		FullName string `json:"fullName"`
	}
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	u, err := a.svc.UpdateUser(r.Context(), p, r.PathValue("username"), req.FullName)
	return u, http.StatusOK, err
}

// userAction serves the custom methods POST /users/{username}:disable,
// :enable, :migrate and :sync (AIP-136 style).
func (a *API) userAction(r *http.Request, p admin.Principal) (any, int, error) {
	target := r.PathValue("action")
	i := strings.LastIndexByte(target, ':')
	if i < 0 {
		return nil, 0, directory.NotFound("route", "POST "+r.URL.Path)
	}
	username, action := target[:i], target[i+1:]
	var u directory.User
	var err error
	switch action {
	case "disable", "enable":
		u, err = a.svc.SetDisabled(r.Context(), p, username, action == "disable")
	case "migrate":
		var req struct {
			IAM    string `json:"iam"`
			UserID string `json:"userId"`
		}
		if err := decode(r, &req); err != nil {
			return nil, 0, err
		}
		u, err = a.svc.MigrateUser(r.Context(), p, username, req.IAM, req.UserID)
	case "sync":
		// From the user's identity provider's user-info endpoint, now; a
		// failed sync is a 502 saying why, and shows on the user.
		u, err = a.svc.SyncUser(r.Context(), p, username)
	default:
		return nil, 0, directory.NotFound("action", action)
	}
	return u, http.StatusOK, err
}

func (a *API) deleteUser(r *http.Request, p admin.Principal) (any, int, error) {
	err := a.svc.DeleteUser(r.Context(), p, r.PathValue("username"), r.URL.Query().Get("confirm"))
	return nil, http.StatusNoContent, err
}

func (a *API) grant(r *http.Request, p admin.Principal) (any, int, error) {
	var req struct {
		Permission string `json:"permission"`
	}
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	u, err := a.svc.GrantPermission(r.Context(), p, r.PathValue("username"), req.Permission)
	return u, http.StatusOK, err
}

func (a *API) revoke(r *http.Request, p admin.Principal) (any, int, error) {
	u, err := a.svc.RevokePermission(r.Context(), p, r.PathValue("username"), r.PathValue("permission"))
	return u, http.StatusOK, err
}

// attributeRequest is the body that adds one value to an attribute.
type attributeRequest struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (a *API) addUserAttribute(r *http.Request, p admin.Principal) (any, int, error) {
	var req attributeRequest
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	u, err := a.svc.AddUserAttribute(r.Context(), p, r.PathValue("username"), req.Name, req.Value)
	return u, http.StatusOK, err
}

func (a *API) removeUserAttribute(r *http.Request, p admin.Principal) (any, int, error) {
	u, err := a.svc.RemoveUserAttribute(r.Context(), p, r.PathValue("username"), r.PathValue("name"), r.PathValue("value"))
	return u, http.StatusOK, err
}

func (a *API) setExternalID(r *http.Request, p admin.Principal) (any, int, error) {
	var req struct {
		Username string `json:"username"`
	}
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	u, err := a.svc.SetExternalID(r.Context(), p, r.PathValue("username"), r.PathValue("platform"), req.Username)
	return u, http.StatusOK, err
}

func (a *API) deleteExternalID(r *http.Request, p admin.Principal) (any, int, error) {
	u, err := a.svc.DeleteExternalID(r.Context(), p, r.PathValue("username"), r.PathValue("platform"))
	return u, http.StatusOK, err
}

// CreatedToken is the answer of a token mint: the secret is shown only here.
type CreatedToken struct {
	directory.Token
	Secret string `json:"secret"`
}

func (a *API) createToken(r *http.Request, p admin.Principal) (any, int, error) {
	var req struct {
		Description string `json:"description"`
		TTL         string `json:"ttl"` // Go duration, e.g. "720h"; empty never expires
	}
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	var ttl time.Duration
	if req.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(req.TTL); err != nil {
			return nil, 0, directory.Invalid("ttl", "ttl %q is not a duration such as 720h", req.TTL)
		}
	}
	secret, t, err := a.svc.CreateToken(r.Context(), p, r.PathValue("username"), req.Description, ttl)
	return CreatedToken{Token: t, Secret: secret}, http.StatusCreated, err
}

// TokensPage is the answer of GET /users/{username}/tokens.
type TokensPage struct {
	Tokens []directory.Token `json:"tokens"`
}

func (a *API) listTokens(r *http.Request, p admin.Principal) (any, int, error) {
	ts, err := a.svc.ListTokens(r.Context(), p, r.PathValue("username"))
	return TokensPage{Tokens: ts}, http.StatusOK, err
}

func (a *API) deleteToken(r *http.Request, p admin.Principal) (any, int, error) {
	err := a.svc.DeleteToken(r.Context(), p, r.PathValue("username"), r.PathValue("id"))
	return nil, http.StatusNoContent, err
}

// groupRequest is the body that creates or updates a group.
type groupRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Email       string `json:"email"`
}

func (a *API) createGroup(r *http.Request, p admin.Principal) (any, int, error) {
	var req groupRequest
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	g, err := a.svc.CreateGroup(r.Context(), p, directory.Group{Name: req.Name, Description: req.Description, Email: req.Email})
	return g, http.StatusCreated, err
}

// GroupsPage is the answer of GET /api/v1/groups.
type GroupsPage struct {
	Groups []directory.Group `json:"groups"`
}

func (a *API) listGroups(r *http.Request, p admin.Principal) (any, int, error) {
	gs, err := a.svc.ListGroups(r.Context(), p)
	return GroupsPage{Groups: gs}, http.StatusOK, err
}

func (a *API) getGroup(r *http.Request, p admin.Principal) (any, int, error) {
	g, err := a.svc.GetGroup(r.Context(), p, r.PathValue("name"))
	return g, http.StatusOK, err
}

func (a *API) updateGroup(r *http.Request, p admin.Principal) (any, int, error) {
	var req struct {
		Description string `json:"description"`
		Email       string `json:"email"`
	}
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	g, err := a.svc.UpdateGroup(r.Context(), p, directory.Group{Name: r.PathValue("name"), Description: req.Description, Email: req.Email})
	return g, http.StatusOK, err
}

func (a *API) deleteGroup(r *http.Request, p admin.Principal) (any, int, error) {
	return nil, http.StatusNoContent, a.svc.DeleteGroup(r.Context(), p, r.PathValue("name"))
}

func (a *API) addMember(r *http.Request, p admin.Principal) (any, int, error) {
	var req struct {
		Username string `json:"username"`
	}
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	g, err := a.svc.AddMember(r.Context(), p, r.PathValue("name"), req.Username)
	return g, http.StatusOK, err
}

func (a *API) removeMember(r *http.Request, p admin.Principal) (any, int, error) {
	g, err := a.svc.RemoveMember(r.Context(), p, r.PathValue("name"), r.PathValue("username"))
	return g, http.StatusOK, err
}

func (a *API) addGroupAttribute(r *http.Request, p admin.Principal) (any, int, error) {
	var req attributeRequest
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	g, err := a.svc.AddGroupAttribute(r.Context(), p, r.PathValue("name"), req.Name, req.Value)
	return g, http.StatusOK, err
}

func (a *API) removeGroupAttribute(r *http.Request, p admin.Principal) (any, int, error) {
	g, err := a.svc.RemoveGroupAttribute(r.Context(), p, r.PathValue("name"), r.PathValue("attr"), r.PathValue("value"))
	return g, http.StatusOK, err
}

// iamRequest is the body that saves an identity provider.
type iamRequest struct {
	ID             string                      `json:"id"`
	DisplayName    string                      `json:"displayName"`
	UserInfo       *directory.UserInfoEndpoint `json:"userInfo"`
	ProfileMapping map[string]string           `json:"profileMapping"`
}

func (r iamRequest) iam() directory.IAM {
	return directory.IAM{ID: r.ID, DisplayName: r.DisplayName, UserInfo: r.UserInfo, ProfileMapping: r.ProfileMapping}
}

func (a *API) createIAM(r *http.Request, p admin.Principal) (any, int, error) {
	var req iamRequest
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	i, err := a.svc.CreateIAM(r.Context(), p, req.iam())
	return i, http.StatusCreated, err
}

func (a *API) putIAM(r *http.Request, p admin.Principal) (any, int, error) {
	var req iamRequest
	if err := decode(r, &req); err != nil {
		return nil, 0, err
	}
	id := r.PathValue("id")
	if req.ID != "" && req.ID != id {
		return nil, 0, directory.Invalid("id", "id %q in the body does not match %q in the path", req.ID, id)
	}
	req.ID = id
	i, err := a.svc.PutIAM(r.Context(), p, req.iam())
	return i, http.StatusOK, err
}

// IAMsPage is the answer of GET /api/v1/iams.
type IAMsPage struct {
	IAMs []directory.IAM `json:"iams"`
}

func (a *API) listIAMs(r *http.Request, p admin.Principal) (any, int, error) {
	is, err := a.svc.ListIAMs(r.Context(), p)
	return IAMsPage{IAMs: is}, http.StatusOK, err
}

func (a *API) getIAM(r *http.Request, p admin.Principal) (any, int, error) {
	i, err := a.svc.GetIAM(r.Context(), p, r.PathValue("id"))
	return i, http.StatusOK, err
}

func (a *API) deleteIAM(r *http.Request, p admin.Principal) (any, int, error) {
	return nil, http.StatusNoContent, a.svc.DeleteIAM(r.Context(), p, r.PathValue("id"))
}

// AuditPage is the answer of GET /api/v1/audit. NextBefore, when set, is the
// `before` value that fetches the next (older) page.
type AuditPage struct {
	Records    []audit.Record `json:"records"`
	NextBefore int64          `json:"nextBefore,omitempty"`
}

func (a *API) listAudit(r *http.Request, p admin.Principal) (any, int, error) {
	v := r.URL.Query()
	q := audit.Query{Actor: v.Get("actor"), Type: v.Get("type"), Target: v.Get("target")}
	var err error
	if q.Since, err = timeParam(v.Get("since"), "since"); err != nil {
		return nil, 0, err
	}
	if q.Until, err = timeParam(v.Get("until"), "until"); err != nil {
		return nil, 0, err
	}
	if q.Before, err = intParam(v.Get("before"), "before"); err != nil {
		return nil, 0, err
	}
	limit, err := intParam(v.Get("limit"), "limit")
	if err != nil {
		return nil, 0, err
	}
	q.Limit = int(limit)
	recs, err := a.svc.ListAudit(r.Context(), p, q)
	if err != nil {
		return nil, 0, err
	}
	page := AuditPage{Records: recs}
	if recs == nil {
		page.Records = []audit.Record{}
	}
	limit = max(limit, 0)
	if limit == 0 {
		limit = 100 // the service's default page size
	}
	if n := len(recs); n > 0 && int64(n) == limit {
		page.NextBefore = recs[n-1].ID
	}
	return page, http.StatusOK, nil
}

func (a *API) usageMetrics(r *http.Request, p admin.Principal) (any, int, error) {
	raw := r.URL.Query().Get("days")
	if raw == "" {
		return nil, 0, directory.Invalid("days", "days is required (1 to 365)")
	}
	days, err := strconv.Atoi(raw)
	if err != nil {
		return nil, 0, directory.Invalid("days", "days must be a whole number from 1 to 365, got %q", raw)
	}
	rep, err := a.svc.UsageMetrics(r.Context(), p, days)
	if err != nil {
		return nil, 0, err
	}
	return download{name: "gatehouse-usage-" + rep.To + ".json", v: rep}, http.StatusOK, nil
}

func (a *API) reloadPolicies(r *http.Request, p admin.Principal) (any, int, error) {
	if err := a.svc.ReloadPolicies(r.Context(), p); err != nil {
		return nil, 0, err
	}
	return map[string]string{"status": "reloaded"}, http.StatusOK, nil
}

func boolParam(s, name string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, directory.Invalid(name, "%s must be true or false, got %q", name, s)
	}
	return b, nil
}

func intParam(s, name string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, directory.Invalid(name, "%s must be a non-negative whole number, got %q", name, s)
	}
	return n, nil
}

// timeParam accepts RFC 3339 times and plain dates (midnight UTC).
func timeParam(s, name string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, directory.Invalid(name, "%s must be an RFC 3339 time or a YYYY-MM-DD date, got %q", name, s)
}
