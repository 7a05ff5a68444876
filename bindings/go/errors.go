package kindmps

// #include <kindmps.h>
import "C"

import "fmt"

// ErrorKind is the finer reason of a failure (kmps_error_kind in kindmps.h).
type ErrorKind int

// The error kinds: kindmps.h's values.
const (
	KindNone            ErrorKind = C.KMPS_ERROR_NONE
	KindInvalidArgument ErrorKind = C.KMPS_ERROR_INVALID_ARGUMENT
	KindNotFound        ErrorKind = C.KMPS_ERROR_NOT_FOUND
	KindConflict        ErrorKind = C.KMPS_ERROR_CONFLICT
	KindBadRequest      ErrorKind = C.KMPS_ERROR_BAD_REQUEST
	KindServer          ErrorKind = C.KMPS_ERROR_SERVER
	KindUnavailable     ErrorKind = C.KMPS_ERROR_UNAVAILABLE
	KindPermission      ErrorKind = C.KMPS_ERROR_PERMISSION
	KindTimeout         ErrorKind = C.KMPS_ERROR_TIMEOUT
	KindProtocol        ErrorKind = C.KMPS_ERROR_PROTOCOL
	KindEnvironment     ErrorKind = C.KMPS_ERROR_ENVIRONMENT
	KindFailed          ErrorKind = C.KMPS_ERROR_FAILED
	KindCancelled       ErrorKind = C.KMPS_ERROR_CANCELLED
	KindInternal        ErrorKind = C.KMPS_ERROR_INTERNAL
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

// sentinels holds the sentinel of each kind; the tests check it against the library's kinds.
var sentinels = map[ErrorKind]*Error{}

func sentinel(code int, kind ErrorKind) *Error {
	e := &Error{Code: code, Kind: kind}
	sentinels[kind] = e
	return e
}

// Sentinels for errors.Is; each matches every *Error of its kind.
var (
	ErrInvalidArgument = sentinel(CodeInvalid, KindInvalidArgument)
	ErrNotFound        = sentinel(CodeFailed, KindNotFound)
	ErrConflict        = sentinel(CodeFailed, KindConflict)
	ErrBadRequest      = sentinel(CodeFailed, KindBadRequest)
	ErrServer          = sentinel(CodeFailed, KindServer)
	ErrUnavailable     = sentinel(CodeEnvironment, KindUnavailable)
	ErrPermission      = sentinel(CodeEnvironment, KindPermission)
	ErrTimeout         = sentinel(CodeFailed, KindTimeout)
	ErrProtocol        = sentinel(CodeFailed, KindProtocol)
	ErrEnvironment     = sentinel(CodeEnvironment, KindEnvironment)
	ErrFailed          = sentinel(CodeFailed, KindFailed)
	ErrCancelled       = sentinel(CodeFailed, KindCancelled)
	ErrInternal        = sentinel(CodeFailed, KindInternal)
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
