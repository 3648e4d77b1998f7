package session

import "fmt"

// Code classifies an Error, so that each boundary (the gateway's Trino
// errors, gRPC statuses) can map it in one place.
type Code int

const (
	// CodeInvalid: an unknown property or a malformed value; the caller
	// must change what it sent.
	CodeInvalid Code = iota + 1
	// CodeRefused: well-formed, but the impersonation mode does not allow it
	// in the session's current state (switching users, RESET in strict mode).
	CodeRefused
	// CodeNotFound: the identity-provider form names no directory user.
	CodeNotFound
)

// Error is a session error whose message was written for the person who
// typed the statement: it says what is wrong and what to do instead.
type Error struct {
	Code     Code
	Property string // the property concerned, when there is one
	Msg      string
}

func (e *Error) Error() string { return e.Msg }

func invalid(prop, format string, args ...any) error {
	return &Error{Code: CodeInvalid, Property: prop, Msg: fmt.Sprintf(format, args...)}
}

func refused(prop, format string, args ...any) error {
	return &Error{Code: CodeRefused, Property: prop, Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &Error{Code: CodeNotFound, Msg: fmt.Sprintf(format, args...)}
}
