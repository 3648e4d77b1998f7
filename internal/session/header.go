package session

import (
	"net/url"
	"strings"
)

// Trino's client-protocol headers that carry session properties.
const (
	// HeaderSession carries the session's properties on every request:
	// comma-separated name=value entries, values URL-encoded; a client may
	// send it more than once.
	HeaderSession = "X-Trino-Session"
	// HeaderSetSession in a response tells the client to add one property
	// (name=url-encoded value) to its session.
	HeaderSetSession = "X-Trino-Set-Session"
	// HeaderClearSession in a response tells the client to drop one property.
	HeaderClearSession = "X-Trino-Clear-Session"
)

// isOurs reports whether a session property name is in gatehouse's namespace.
// Case-insensitively: Trino would take "Gatehouse.x" for a catalog property
// too, and fail the query on it.
func isOurs(name string) bool {
	return len(name) >= len(Prefix) && strings.EqualFold(name[:len(Prefix)], Prefix)
}

// entries splits X-Trino-Session values into trimmed, non-empty
// "name=value" entries, as Trino does.
func entries(values []string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// FromHeader reads the gatehouse.* properties out of X-Trino-Session values;
// other properties are Trino's business and are skipped. Names are
// lower-cased; a property sent twice keeps its last value.
func FromHeader(values []string) (Props, error) {
	props := Props{}
	for _, e := range entries(values) {
		name, raw, ok := strings.Cut(e, "=")
		name = strings.TrimSpace(name)
		if !isOurs(name) {
			continue
		}
		name = strings.ToLower(name)
		if !ok {
			return nil, invalid(name, "%s header entry %s has no value", HeaderSession, quoteName(name))
		}
		v, err := url.QueryUnescape(strings.TrimSpace(raw))
		if err != nil {
			return nil, invalid(name, "%s header: the value of %s is not URL-encoded correctly", HeaderSession, quoteName(name))
		}
		props[name] = v
	}
	return props, nil
}

// StripHeader returns X-Trino-Session values without gatehouse.* entries,
// the rest unchanged, or nil when nothing is left.
func StripHeader(values []string) []string {
	var kept []string
	for _, e := range entries(values) {
		name, _, _ := strings.Cut(e, "=")
		if !isOurs(strings.TrimSpace(name)) {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return []string{strings.Join(kept, ",")}
}

// HasOurs reports whether X-Trino-Session values carry any gatehouse.* entry.
func HasOurs(values []string) bool {
	for _, e := range entries(values) {
		name, _, _ := strings.Cut(e, "=")
		if isOurs(strings.TrimSpace(name)) {
			return true
		}
	}
	return false
}

// SetHeaderValue is the X-Trino-Set-Session value that sets name to value,
// encoded as Trino encodes it (and as clients send it back).
func SetHeaderValue(name, value string) string {
	return name + "=" + url.QueryEscape(value)
}

// FromMap picks the gatehouse.* properties out of a name → value map of a
// session's properties (as SessionService and AuthorizerService callers pass
// them), lower-casing names as FromHeader does.
func FromMap(m map[string]string) Props {
	props := Props{}
	for name, v := range m {
		if name = strings.TrimSpace(name); isOurs(name) {
			props[strings.ToLower(name)] = v
		}
	}
	return props
}
