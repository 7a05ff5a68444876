package kindmps

// #include <kindmps.h>
import "C"

import "fmt"

// ErrorKind is the finer reason of a failure (kmps_error_kind in kindmps.h).
type ErrorKind int

// The error kinds; values match kindmps.h.
const (
	KindNone ErrorKind = iota
	KindInvalidArgument
	KindNotFound
	KindConflict
	KindBadRequest
	KindServer
	KindUnavailable
	KindPermission
	KindTimeout
	KindProtocol
	KindEnvironment
	KindFailed
	KindCancelled
	KindInternal
)

// String is the kind's name, e.g. "not found".
func (k ErrorKind) String() string { return C.GoString(C.kmps_error_kind_name(C.int(k))) }

// Return codes (the CLI's exit codes).
const (
	CodeOK          = 0
	CodeFailed      = 1
	CodeInvalid     = 2
	CodeEnvironment = 3
)

// Error is a failed library call. Code is the CLI's exit code (1 failed, 2 invalid argument,
// 3 environment missing), Kind the finer reason, Msg the library's one-line message.
//
// Compare with errors.Is against the sentinels: errors.Is(err, kindmps.ErrNotFound).
type Error struct {
	Code int
	Kind ErrorKind
	Msg  string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return "kindmps: " + e.Kind.String()
	}
	return e.Msg
}

// Is reports whether target is the sentinel of e's kind, or ErrEnvironmentCode for any code-3
// error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Msg != "" {
		return false
	}
	if t == ErrEnvironmentCode {
		return e.Code == CodeEnvironment
	}
	return t.Kind == e.Kind
}

// Sentinels for errors.Is; each matches every *Error of its kind.
var (
	ErrInvalidArgument = &Error{Code: CodeInvalid, Kind: KindInvalidArgument}
	ErrNotFound        = &Error{Code: CodeFailed, Kind: KindNotFound}
	ErrConflict        = &Error{Code: CodeFailed, Kind: KindConflict}
	ErrBadRequest      = &Error{Code: CodeFailed, Kind: KindBadRequest}
	ErrServer          = &Error{Code: CodeFailed, Kind: KindServer}
	ErrUnavailable     = &Error{Code: CodeEnvironment, Kind: KindUnavailable}
	ErrPermission      = &Error{Code: CodeEnvironment, Kind: KindPermission}
	ErrTimeout         = &Error{Code: CodeFailed, Kind: KindTimeout}
	ErrProtocol        = &Error{Code: CodeFailed, Kind: KindProtocol}
	ErrEnvironment     = &Error{Code: CodeEnvironment, Kind: KindEnvironment}
	ErrFailed          = &Error{Code: CodeFailed, Kind: KindFailed}
	ErrCancelled       = &Error{Code: CodeFailed, Kind: KindCancelled}
	ErrInternal        = &Error{Code: CodeFailed, Kind: KindInternal}
	// ErrEnvironmentCode matches every error with code 3: daemon unreachable, socket permission,
	// kind or driver files missing.
	ErrEnvironmentCode = &Error{Code: CodeEnvironment, Kind: -1}
)

// lastError reads the calling OS thread's last error; the caller holds runtime.LockOSThread
// since the C call whose code is rc.
func lastError(rc C.int) error {
	if rc == 0 {
		return nil
	}
	msg := C.GoString(C.kmps_last_error())
	if msg == "" {
		msg = fmt.Sprintf("kindmps: failed with code %d", int(rc))
	}
	return &Error{Code: int(rc), Kind: ErrorKind(C.kmps_last_error_kind()), Msg: msg}
}

func invalid(format string, args ...any) error {
	return &Error{Code: CodeInvalid, Kind: KindInvalidArgument, Msg: fmt.Sprintf(format, args...)}
}
