// Package session is what SET SESSION, RESET SESSION and SHOW SESSION mean for
// gatehouse's own session properties (gatehouse.*), as pure functions over the
// properties a Trino client holds and sends in X-Trino-Session.
//
// Trino keeps session properties in the client: the server answers a SET with
// X-Trino-Set-Session and a RESET with X-Trino-Clear-Session, and the client
// sends every property back on each later statement. Gatehouse follows the same
// model, so nothing here keeps state: the caller (the gateway, or a
// SessionService client) passes the properties it holds and gets back what to
// set or clear. That is also why SET never checks a permission — the check is
// Trino's ImpersonateUser, made for every query (architecture.md,
// "Impersonation semantics").
//
// The same functions serve the gateway and the gRPC SessionService, so the two
// cannot drift apart.
package session

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Prefix starts every gatehouse session property name. Trino would read it as
// a catalog called "gatehouse", which is why the gateway strips these
// properties before forwarding a statement.
const Prefix = "gatehouse."

// The properties. ImpersonateUser names the target directly (a Trino user
// name or a directory username); the identity-provider form names it by the
// user's id in an identity provider, optionally through a template, the way
// governance platforms let a service convert a short account name such as
// jdoe into jdoe@example.com.
const (
	ImpersonateUser             = "gatehouse.impersonate_user"
	ImpersonationIAMID          = "gatehouse.impersonation_iamid"
	ImpersonationUserID         = "gatehouse.impersonation_userid"
	ImpersonationUserIDTemplate = "gatehouse.impersonation_userid_template"
)

// UserIDPlaceholder is what a userid template's {userid} is replaced with.
const UserIDPlaceholder = "{userid}"

// MaxValueLen bounds a property value in bytes (the directory's own bound on
// user ids), so that a session cannot grow headers without limit.
const MaxValueLen = 1024

// Property describes one gatehouse session property, as SHOW SESSION shows it.
type Property struct {
	Name        string
	Default     string
	Type        string
	Description string
}

// Properties lists gatehouse's session properties in the order SHOW SESSION
// shows them.
var Properties = []Property{
	{ImpersonateUser, "", "varchar", "Run queries as this user (Trino user name or directory username); checked when each query runs"},
	{ImpersonationIAMID, "", "varchar", "Identity provider of the user to impersonate (with impersonation_userid); case-sensitive"},
	{ImpersonationUserID, "", "varchar", "User id, in impersonation_iamid, of the user to impersonate; case-sensitive"},
	{ImpersonationUserIDTemplate, "", "varchar", "Template turning impersonation_userid into the provider's user id; {userid} is replaced, e.g. {userid}@example.com"},
}

// Known reports whether name is one of gatehouse's session properties.
func Known(name string) bool {
	return slices.ContainsFunc(Properties, func(p Property) bool { return p.Name == name })
}

func knownNames() string {
	names := make([]string, len(Properties))
	for i, p := range Properties {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Mode is how long an impersonation lasts on a connection.
type Mode string

const (
	// ModeSession (the default): RESET SESSION ends an impersonation, after
	// which another may be set; switching directly to another user fails.
	ModeSession Mode = "session"
	// ModeStrict: one impersonation for the connection's life; RESET is
	// refused and the client opens a new connection instead.
	ModeStrict Mode = "strict"
)

// ParseMode reads a mode as configured; "" is the default, ModeSession.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeSession:
		return ModeSession, nil
	case ModeStrict:
		return ModeStrict, nil
	}
	return "", fmt.Errorf("impersonation mode must be %q or %q, not %q", ModeSession, ModeStrict, s)
}

// Props are the gatehouse.* properties a session holds, name → value.
// Properties of other namespaces never appear here.
type Props map[string]string

// Change is what a client must do to its session after a statement: set each
// property of Set (X-Trino-Set-Session) and clear each of Clear
// (X-Trino-Clear-Session).
type Change struct {
	Set   map[string]string
	Clear []string
}

// Set is SET SESSION name = 'value'. It always succeeds for a well-formed
// property and value, with no permission check, except that it will not
// switch an impersonation in place: once the properties name a target,
// changing the target fails in both modes (RESET first in session mode, open
// a new connection in strict mode). Adding a template to a complete
// identity-provider form is allowed: it is part of the same form, which
// governance platforms set in the order iamid, userid, template.
func Set(mode Mode, cur Props, name, value string) (Change, error) {
	if err := checkName(name); err != nil {
		return Change{}, err
	}
	if err := checkValue(name, value); err != nil {
		return Change{}, err
	}
	t, active, err := cur.Target()
	if err != nil {
		return Change{}, err
	}
	if active && cur[name] != value {
		switching := false
		switch {
		case t.User != "":
			// Any identity-provider property would compete with the direct form.
			switching = true
		case name == ImpersonateUser:
			switching = true
		default:
			// The identity-provider form: a value may be added, not changed.
			switching = cur[name] != ""
		}
		if switching {
			return Change{}, refusedSwitch(mode, t)
		}
	}
	return Change{Set: map[string]string{name: value}}, nil
}

func refusedSwitch(mode Mode, t Target) error {
	if mode == ModeStrict {
		return refused("", "this connection already impersonates %s and cannot switch (impersonation-mode strict): open a new connection to impersonate someone else", t)
	}
	return refused("", "this session already impersonates %s: RESET SESSION %s first, then set another user", t, t.resetHint())
}

// Reset is RESET SESSION name. In strict mode it is refused for a property
// of the impersonation in effect.
func Reset(mode Mode, cur Props, name string) (Change, error) {
	if err := checkName(name); err != nil {
		return Change{}, err
	}
	if mode == ModeStrict {
		if t, active, err := cur.Target(); err == nil && active && slices.Contains(t.properties(), name) {
			return Change{}, refused(name, "this connection impersonates %s for as long as it is open (impersonation-mode strict): open a new connection to stop impersonating", t)
		}
	}
	return Change{Clear: []string{name}}, nil
}

// Row is one line of SHOW SESSION, in Trino's columns.
type Row struct {
	Name, Value, Default, Type, Description string
}

// Show is SHOW SESSION [LIKE ...] for gatehouse's properties: every property,
// set or not (an unset one shows its default), whose name matches like (nil
// matches all).
func Show(cur Props, like *Pattern) []Row {
	var rows []Row
	for _, p := range Properties {
		if like != nil && !like.Match(p.Name) {
			continue
		}
		v, ok := cur[p.Name]
		if !ok {
			v = p.Default
		}
		rows = append(rows, Row{Name: p.Name, Value: v, Default: p.Default, Type: p.Type, Description: p.Description})
	}
	return rows
}

// Target is whom a session's properties ask to impersonate: a user name
// (User), or a user id in an identity provider (IAM and UserID, with the
// template already applied).
type Target struct {
	User        string
	IAM, UserID string
}

func (t Target) String() string {
	if t.User != "" {
		return fmt.Sprintf("%q", t.User)
	}
	return fmt.Sprintf("userid %q of identity provider %q", t.UserID, t.IAM)
}

// properties names the properties that make up t's form.
func (t Target) properties() []string {
	if t.User != "" {
		return []string{ImpersonateUser}
	}
	return []string{ImpersonationIAMID, ImpersonationUserID, ImpersonationUserIDTemplate}
}

func (t Target) resetHint() string {
	if t.User != "" {
		return ImpersonateUser
	}
	return ImpersonationUserID
}

// Target reports the impersonation the properties ask for, if any. The
// identity-provider form takes effect once both iamid and userid are set.
// Values that came from a client's header rather than from Set are checked
// again here, so a hand-made header cannot slip past the rules; names that
// are not gatehouse's properties cannot name a target and are ignored.
func (p Props) Target() (Target, bool, error) {
	for _, prop := range Properties {
		if v, ok := p[prop.Name]; ok {
			if err := checkValue(prop.Name, v); err != nil {
				return Target{}, false, err
			}
		}
	}
	user, iam, uid := p[ImpersonateUser], p[ImpersonationIAMID], p[ImpersonationUserID]
	iamForm := iam != "" && uid != ""
	switch {
	case user != "" && iamForm:
		return Target{}, false, invalid(ImpersonateUser, "the session sets both %s and the identity-provider form (%s, %s): RESET one of them", ImpersonateUser, ImpersonationIAMID, ImpersonationUserID)
	case user != "":
		return Target{User: user}, true, nil
	case iamForm:
		tpl := p[ImpersonationUserIDTemplate]
		if tpl == "" {
			tpl = UserIDPlaceholder
		}
		return Target{IAM: iam, UserID: strings.ReplaceAll(tpl, UserIDPlaceholder, uid)}, true, nil
	}
	return Target{}, false, nil
}

// Validate checks that name is a gatehouse property and value a value it may
// hold, as Set does, for callers that receive properties from elsewhere.
func Validate(name, value string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return checkValue(name, value)
}

func checkName(name string) error {
	if !Known(name) {
		return invalid(name, "unknown session property %s: gatehouse's session properties are %s", quoteName(name), knownNames())
	}
	return nil
}

// quoteName shows a caller-supplied name safely in a message.
func quoteName(name string) string {
	if len(name) > 128 {
		name = name[:128] + "..."
	}
	return fmt.Sprintf("%q", name)
}

func checkValue(name, v string) error {
	switch {
	case v == "":
		return invalid(name, "%s must not be empty: use RESET SESSION %s to unset it", name, name)
	case len(v) > MaxValueLen:
		return invalid(name, "%s is %d bytes long; the limit is %d", name, len(v), MaxValueLen)
	case !utf8.ValidString(v):
		return invalid(name, "%s is not valid UTF-8", name)
	case strings.ContainsFunc(v, unicode.IsControl):
		return invalid(name, "%s must not contain control characters", name)
	case name == ImpersonationUserIDTemplate && !strings.Contains(v, UserIDPlaceholder):
		return invalid(name, "%s must contain %s, which is replaced with %s (e.g. '%s@example.com')", name, UserIDPlaceholder, ImpersonationUserID, UserIDPlaceholder)
	}
	return nil
}
