package kindmps

/*
#include <stdint.h>
#include <kindmps.h>

extern void kmpsGoProgress(kmps_progress_event* event, uintptr_t handle);

static void kmps_go_trampoline(const kmps_progress_event* event, void* user) {
  kmpsGoProgress((kmps_progress_event*)event, (uintptr_t)user);
}

// The C entry points with the progress callback bound to Go (handle 0: no callback).
static int kmps_go_up(kmps_client* c, const char* options, uintptr_t handle, char** out) {
  return kmps_cluster_up(c, options, handle ? kmps_go_trampoline : NULL, (void*)handle, out);
}
static int kmps_go_down(kmps_client* c, const char* cluster, const char* kind, int keep, uintptr_t handle) {
  return kmps_cluster_down(c, cluster, kind, keep, handle ? kmps_go_trampoline : NULL, (void*)handle);
}
*/
import "C"

import (
	"runtime/cgo"
)

// ProgressKind tells what a ProgressEvent reports.
type ProgressKind int

// The progress kinds; values match kindmps.h.
const (
	StepStarted ProgressKind = iota
	StepDone
	StepFailed
	Line // one line of output (kind's, or a node's note) in Detail
)

func (k ProgressKind) String() string {
	switch k {
	case StepStarted:
		return "started"
	case StepDone:
		return "done"
	case StepFailed:
		return "failed"
	case Line:
		return "line"
	}
	return "unknown"
}

// ProgressEvent is one report of Up or Down. Step is 1-based (0 for lines) out of Total.
type ProgressEvent struct {
	Kind      ProgressKind
	Step      int
	Total     int
	Title     string
	Detail    string
	ElapsedMs float64
}

// ProgressFunc receives progress on the goroutine that called Up or Down, one event at a time.
// It must not use the same Client.
type ProgressFunc func(ProgressEvent)

type progressState struct {
	fn    ProgressFunc
	panic any // a panic of fn, re-raised after the C call returns
}

// withProgress runs call with a handle for fn (0 when fn is nil) and re-raises fn's panic.
func withProgress(fn ProgressFunc, call func(handle C.uintptr_t)) {
	if fn == nil {
		call(0)
		return
	}
	st := &progressState{fn: fn}
	h := cgo.NewHandle(st)
	defer h.Delete()
	call(C.uintptr_t(h))
	if st.panic != nil {
		panic(st.panic)
	}
}

func goUp(c *C.kmps_client, options *C.char, handle C.uintptr_t, out **C.char) C.int {
	return C.kmps_go_up(c, options, handle, out)
}

func goDown(c *C.kmps_client, cluster, kind *C.char, keep C.int, handle C.uintptr_t) C.int {
	return C.kmps_go_down(c, cluster, kind, keep, handle)
}
