package cli

import (
	"bytes"
	"strings"
	"testing"
)

// The gateway command refuses to start without what it cannot guess, with a
// message naming the option; the gateway itself is tested in internal/gateway
// and, as this command runs it, in test/e2e.
func TestGatewayCommandNeedsTrinoURL(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"gateway"}, nil, "--trino-url is required"},
		{[]string{"gateway", "--trino-url", "trino:8080"}, nil, "trino-url (from flag --trino-url)"},
		{[]string{"gateway"}, map[string]string{"GATEHOUSE_TRINO_URL": "http://t:1", "GATEHOUSE_IMPERSONATION_MODE": "single"}, "impersonation-mode"},
	} {
		var out, errOut bytes.Buffer
		root := NewRoot(strings.NewReader(""), &out, &errOut, func(k string) string { return c.env[k] })
		root.SetArgs(c.args)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %q", c.args, err, c.want)
		}
	}
}
