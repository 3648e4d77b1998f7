package directory

import (
	"errors"
	"fmt"
)

// Sentinel errors of the domain. Each boundary (REST, gRPC, CLI) maps them to
// its own status in one place; wrap them with fmt.Errorf("...: %w") to add
// what the caller must fix.
var (
	ErrNotFound         = errors.New("not found")
	ErrConflict         = errors.New("conflict")
	ErrInvalid          = errors.New("invalid")
	ErrUnauthenticated  = errors.New("unauthenticated")
	ErrPermissionDenied = errors.New("permission denied")
	// ErrUnavailable is a service gatehouse depends on (an identity
	// provider's user-info endpoint) failing to answer usably.
	ErrUnavailable = errors.New("unavailable")
)

// Error is a domain error with a message fit for the caller: Kind is one of
// the sentinels above and is what errors.Is matches.
type Error struct {
	Kind  error
	Field string // the offending field, when there is one
	Msg   string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Invalid reports bad input in field.
func Invalid(field, format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing entity, e.g. NotFound("user", "a@b.c").
func NotFound(kind, name string) error {
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf("%s %q not found", kind, name)}
}

// Conflict reports an entity that already exists.
func Conflict(kind, name string) error {
	return &Error{Kind: ErrConflict, Msg: fmt.Sprintf("%s %q already exists", kind, name)}
}

// Denied reports a caller lacking a permission.
func Denied(format string, args ...any) error {
	return &Error{Kind: ErrPermissionDenied, Msg: fmt.Sprintf(format, args...)}
}

// Unauthenticated reports a missing or unknown credential.
func Unauthenticated(format string, args ...any) error {
	return &Error{Kind: ErrUnauthenticated, Msg: fmt.Sprintf(format, args...)}
}

// Unavailable reports a dependency that did not answer usably; the message
// says which and why, for the caller to pass on to whoever runs it.
func Unavailable(format string, args ...any) error {
	return &Error{Kind: ErrUnavailable, Msg: fmt.Sprintf(format, args...)}
}
