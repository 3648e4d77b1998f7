package directory

import (
	"errors"
	"strings"
	"testing"
)

// The form of a user-info endpoint; whether it answers is internal/userinfo's
// to check. Each error names the setting to fix.
func TestUserInfoEndpointValidate(t *testing.T) {
	cases := []struct {
		ep    UserInfoEndpoint
		field string // "" means valid
		msg   string
	}{
		{UserInfoEndpoint{URI: "https://idp.example.com/user-info"}, "", ""},
		{UserInfoEndpoint{URI: " http://127.0.0.1:8080/u?tenant=7 "}, "", ""},
		{UserInfoEndpoint{URI: "https://idp/u", Username: "svc", Password: "pw", CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem"}, "", ""},
		{UserInfoEndpoint{}, "userInfo.uri", "userInfo.uri is required"},
		{UserInfoEndpoint{URI: "idp.example.com/u"}, "userInfo.uri", "must start with http:// or https://"},
		{UserInfoEndpoint{URI: "file:///etc/passwd"}, "userInfo.uri", "must start with http:// or https://"},
		{UserInfoEndpoint{URI: "http://"}, "userInfo.uri", "has no host"},
		{UserInfoEndpoint{URI: "http://:80/u"}, "userInfo.uri", "has no host"},
		{UserInfoEndpoint{URI: "http://[::1/u"}, "userInfo.uri", "is not a valid URL"},
		{UserInfoEndpoint{URI: "http://a b/u"}, "userInfo.uri", "is not a valid URL"},
		{UserInfoEndpoint{URI: "https://svc:pw@idp/u"}, "userInfo.uri", "must not contain credentials"},
		{UserInfoEndpoint{URI: "https://idp/u#frag"}, "userInfo.uri", "must not have a #fragment"},
		{UserInfoEndpoint{URI: "https://idp/u", Password: "pw"}, "userInfo.username", "basic auth needs both"},
		{UserInfoEndpoint{URI: "https://idp/u", Username: "a:b", Password: "pw"}, "userInfo.username", "must not contain ':'"},
		{UserInfoEndpoint{URI: "http://idp/u", CAFile: "/ca.pem"}, "userInfo.caFile", "need an https endpoint"},
		{UserInfoEndpoint{URI: "http://idp/u", CertFile: "/c.pem", KeyFile: "/k.pem"}, "userInfo.certFile", "need an https endpoint"},
		{UserInfoEndpoint{URI: "https://idp/u", CertFile: "/c.pem"}, "userInfo.keyFile", "needs its key"},
		{UserInfoEndpoint{URI: "https://idp/u", KeyFile: "/k.pem"}, "userInfo.certFile", "needs its certificate"},
		{UserInfoEndpoint{URI: "https://idp/u", CAFile: "/ca\n.pem"}, "userInfo.caFile", "control character"},
	}
	for _, tc := range cases {
		err := tc.ep.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.ep, err)
			}
			continue
		}
		var de *Error
		if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) || de.Field != tc.field || !strings.Contains(de.Msg, tc.msg) {
			t.Errorf("%+v: error %v, want ErrInvalid on %s saying %q", tc.ep, err, tc.field, tc.msg)
		}
		if tc.ep.Password != "" && strings.Contains(err.Error(), tc.ep.Password) {
			t.Errorf("%+v: error shows the password", tc.ep)
		}
	}
	// IAM.Validate checks its endpoint.
	i := IAM{ID: "corp", DisplayName: "Corp", UserInfo: &UserInfoEndpoint{URI: "corp"}}
	if err := i.Validate(); err == nil {
		t.Error("IAM.Validate accepted a malformed endpoint")
	}
}
