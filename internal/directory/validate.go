package directory

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Documented limits on strings. Longer input is rejected, never truncated.
const (
	MaxEmailLen       = 254
	MaxNameLen        = 200 // full names, display names, descriptions' titles
	MaxDescriptionLen = 2000
	MaxIdentifierLen  = 128 // IAM ids, group names, attribute names, platforms
	MaxValueLen       = 1024
)

var identifierRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]*$`)

// ParsePermission accepts exactly one of the closed set.
func ParsePermission(s string) (Permission, error) {
	for _, p := range Permissions {
		if string(p) == s {
			return p, nil
		}
	}
	return "", Invalid("permission", "unknown permission %q: valid permissions are %s", s, permissionList())
}

func permissionList() string {
	names := make([]string, len(Permissions))
	for i, p := range Permissions {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

// ValidateEmail checks that s is a plain address (no display name) within limits.
func ValidateEmail(field, s string) error {
	if s == "" {
		return Invalid(field, "%s is required", field)
	}
	if len(s) > MaxEmailLen {
		return Invalid(field, "%s is longer than %d characters", field, MaxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return Invalid(field, "%s %q is not a valid email address", field, s)
	}
	return nil
}

// ValidateIdentifier checks a name used as a key: IAM ids, group names,
// attribute names, external-id platforms.
func ValidateIdentifier(field, s string) error {
	if s == "" {
		return Invalid(field, "%s is required", field)
	}
	if len(s) > MaxIdentifierLen {
		return Invalid(field, "%s is longer than %d characters", field, MaxIdentifierLen)
	}
	if !identifierRE.MatchString(s) {
		return Invalid(field, "%s %q must start with a letter or digit and contain only letters, digits and . _ : @ -", field, s)
	}
	return nil
}

// ValidateText checks free text: valid UTF-8, no control characters, within max.
func ValidateText(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return Invalid(field, "%s is required", field)
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return Invalid(field, "%s is longer than %d characters", field, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return Invalid(field, "%s contains a control character", field)
		}
	}
	return nil
}

// Validate checks a user about to be created or updated and normalises its
// email and IAM. It does not look at details (permissions, groups, ...).
func (u *User) Validate() error {
	u.Email = strings.TrimSpace(u.Email)
	if err := ValidateEmail("email", u.Email); err != nil {
		return err
	}
	u.Email = NormalizeUsername(u.Email)
	if err := ValidateText("fullName", u.FullName, MaxNameLen, true); err != nil {
		return err
	}
	if u.IAM == "" {
		u.IAM = BuiltinIAM
	}
	if err := ValidateIdentifier("iam", u.IAM); err != nil {
		return err
	}
	if u.UserID == "" {
		u.UserID = u.Email
	}
	return ValidateText("userId", u.UserID, MaxValueLen, true)
}

// Validate checks a group about to be created or updated.
func (g *Group) Validate() error {
	if err := ValidateIdentifier("name", g.Name); err != nil {
		return err
	}
	if err := ValidateText("description", g.Description, MaxDescriptionLen, false); err != nil {
		return err
	}
	if g.Email != "" {
		if err := ValidateEmail("email", g.Email); err != nil {
			return err
		}
		g.Email = NormalizeUsername(g.Email)
	}
	return nil
}

// Validate checks an identity provider about to be stored.
func (i *IAM) Validate() error {
	if err := ValidateIdentifier("id", i.ID); err != nil {
		return err
	}
	if err := ValidateText("displayName", i.DisplayName, MaxNameLen, true); err != nil {
		return err
	}
	for platform, attr := range i.ProfileMapping {
		if err := ValidateIdentifier("profileMapping", platform); err != nil {
			return err
		}
		if err := ValidateText("profileMapping."+platform, attr, MaxIdentifierLen, true); err != nil {
			return err
		}
	}
	if i.UserInfo != nil {
		return i.UserInfo.Validate()
	}
	return nil
}

// Validate checks the form of a user-info endpoint: a plain http(s) URL, and
// TLS files and credentials that fit together. Whether the endpoint answers
// and the files can be read is I/O, checked by internal/userinfo. Every
// error names the setting to fix, as the REST API spells it.
func (e *UserInfoEndpoint) Validate() error {
	e.URI = strings.TrimSpace(e.URI)
	if err := ValidateText("userInfo.uri", e.URI, MaxValueLen, true); err != nil {
		return err
	}
	u, err := url.Parse(e.URI)
	if err != nil {
		return Invalid("userInfo.uri", "userInfo.uri %q is not a valid URL: %v", e.URI, unwrapURLError(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return Invalid("userInfo.uri", "userInfo.uri %q must start with http:// or https://", e.URI)
	case u.Host == "" || u.Hostname() == "":
		return Invalid("userInfo.uri", "userInfo.uri %q has no host", e.URI)
	case u.User != nil:
		// Credentials in the URL would be shown back by every API and logged.
		return Invalid("userInfo.uri", "userInfo.uri must not contain credentials: set userInfo.username and userInfo.password")
	case u.Fragment != "":
		return Invalid("userInfo.uri", "userInfo.uri %q must not have a #fragment", e.URI)
	}
	if err := ValidateText("userInfo.username", e.Username, MaxNameLen, false); err != nil {
		return err
	}
	if strings.Contains(e.Username, ":") {
		return Invalid("userInfo.username", "userInfo.username must not contain ':' (basic auth cannot carry it)")
	}
	if e.Password != "" && e.Username == "" {
		return Invalid("userInfo.username", "userInfo.password is set but userInfo.username is empty: basic auth needs both")
	}
	if len(e.Password) > MaxValueLen {
		return Invalid("userInfo.password", "userInfo.password is longer than %d characters", MaxValueLen)
	}
	for _, f := range []struct{ field, path string }{
		{"userInfo.caFile", e.CAFile}, {"userInfo.certFile", e.CertFile}, {"userInfo.keyFile", e.KeyFile},
	} {
		if err := ValidateText(f.field, f.path, MaxValueLen, false); err != nil {
			return err
		}
		if f.path != "" && u.Scheme != "https" {
			return Invalid(f.field, "%s is set but userInfo.uri is not https://: TLS files need an https endpoint", f.field)
		}
	}
	switch {
	case e.CertFile != "" && e.KeyFile == "":
		return Invalid("userInfo.keyFile", "userInfo.certFile is set but userInfo.keyFile is empty: a client certificate needs its key")
	case e.KeyFile != "" && e.CertFile == "":
		return Invalid("userInfo.certFile", "userInfo.keyFile is set but userInfo.certFile is empty: a client key needs its certificate")
	}
	return nil
}

// unwrapURLError drops url.Error's repetition of the operation and URL.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// ValidateAttribute checks an attribute name and value pair.
func ValidateAttribute(name, value string) error {
	if err := ValidateIdentifier("name", name); err != nil {
		return err
	}
	return ValidateText("value", value, MaxValueLen, true)
}

// ValidateExternalID checks a platform and the user's name on it.
func ValidateExternalID(platform, name string) error {
	if err := ValidateIdentifier("platform", platform); err != nil {
		return err
	}
	return ValidateText("username", name, MaxValueLen, true)
}
