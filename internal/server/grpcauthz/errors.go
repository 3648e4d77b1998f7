package grpcauthz

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/session"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

// sessionCodes maps session error codes to gRPC codes.
var sessionCodes = map[session.Code]codes.Code{
	session.CodeInvalid:  codes.InvalidArgument,
	session.CodeRefused:  codes.FailedPrecondition,
	session.CodeNotFound: codes.NotFound,
}

// toStatus is the one place this package's errors become gRPC statuses.
// Session errors and malformed requests carry messages written for the
// caller and are sent as they are; anything else is logged and answered
// without its cause, which may come from the store or the policy engine.
func toStatus(ctx context.Context, log *slog.Logger, rpc string, err error) error {
	var se *session.Error
	if errors.As(err, &se) {
		st := status.New(sessionCodes[se.Code], se.Msg)
		if se.Code == session.CodeInvalid && se.Property != "" {
			if d, derr := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: se.Property, Description: se.Msg},
			}}); derr == nil {
				st = d
			}
		}
		return st.Err()
	}
	var br *trino.BadRequest
	if errors.As(err, &br) {
		// Decode names fields by their place in Trino's request; callers
		// know them by the CheckRequest fields.
		msg := strings.NewReplacer("input.action.", "", "input.context.", "").Replace(br.Msg)
		return status.Error(codes.InvalidArgument, msg)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	case errors.Is(err, authz.ErrNotReady):
		return status.Error(codes.Unavailable, "gatehouse is not ready to decide: the directory snapshot is behind the store; retry shortly")
	}
	log.ErrorContext(ctx, "decision-plane gRPC request failed", "rpc", rpc, "err", err)
	return status.Error(codes.Internal, "gatehouse could not answer "+rpc+"; see the server log")
}
