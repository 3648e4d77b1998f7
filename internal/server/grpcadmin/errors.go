package grpcadmin

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse-authz/gatehouse/internal/admin"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// codeOf maps a domain error kind to its gRPC code; ok is false for errors
// that are not the caller's doing.
func codeOf(kind error) (codes.Code, bool) {
	switch {
	case errors.Is(kind, directory.ErrInvalid):
		return codes.InvalidArgument, true
	case errors.Is(kind, directory.ErrUnauthenticated):
		return codes.Unauthenticated, true
	case errors.Is(kind, directory.ErrPermissionDenied):
		return codes.PermissionDenied, true
	case errors.Is(kind, directory.ErrNotFound):
		return codes.NotFound, true
	case errors.Is(kind, directory.ErrConflict):
		return codes.AlreadyExists, true
	case errors.Is(kind, directory.ErrUnavailable):
		return codes.Unavailable, true
	case errors.Is(kind, context.Canceled):
		// The caller went away; it will never read this, and it is no server
		// fault worth an error log.
		return codes.Canceled, true
	case errors.Is(kind, context.DeadlineExceeded):
		return codes.DeadlineExceeded, true
	}
	return codes.Unknown, false
}

// fallbackMessages are sent when a domain error reaches us as a bare or
// wrapped sentinel rather than a *directory.Error: wrapping text may come
// from a store and is not vetted for callers, so it stays in the server.
var fallbackMessages = map[codes.Code]string{
	codes.InvalidArgument:  "invalid argument",
	codes.Unauthenticated:  "unauthenticated: send authorization: Bearer <token>",
	codes.PermissionDenied: "permission denied",
	codes.NotFound:         "not found",
	codes.AlreadyExists:    "already exists",
	codes.Unavailable:      "a service gatehouse depends on is unavailable",
	codes.Canceled:         "request canceled",
	codes.DeadlineExceeded: "deadline exceeded",
}

// toStatus is the one place AdminService errors become gRPC statuses.
// A *directory.Error's message was written for the caller and is sent as is
// (with its field, for InvalidArgument, as a google.rpc.BadRequest detail
// spelled as in the REST API, e.g. "fullName"). Anything that is not a
// domain error is Internal: its cause is logged with the request id, and the
// caller gets only that id to quote.
func toStatus(ctx context.Context, err error) error {
	var de *directory.Error
	isDomain := errors.As(err, &de)
	kind := err
	if isDomain {
		kind = de.Kind
	}
	code, ok := codeOf(kind)
	if !ok {
		id := admin.RequestID(ctx)
		slog.ErrorContext(ctx, "admin gRPC request failed", "requestId", id, "err", err)
		return status.Error(codes.Internal, "internal error; see the server log for request "+id)
	}
	if !isDomain {
		return status.Error(code, fallbackMessages[code])
	}
	st := status.New(code, de.Msg)
	if code == codes.InvalidArgument && de.Field != "" {
		withField, derr := st.WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: de.Field, Description: de.Msg}},
		})
		if derr == nil {
			st = withField
		}
	}
	return st.Err()
}
