package kindmps

// The Go side of the progress callback. Kept apart from progress.go: a file with //export may only
// declare C functions in its preamble.

/*
#include <stdint.h>
#include <kindmps.h>
*/
import "C"

import "runtime/cgo"

//export kmpsGoProgress
func kmpsGoProgress(event *C.kmps_progress_event, handle C.uintptr_t) {
	st := cgo.Handle(handle).Value().(*progressState)
	if st.panic != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			st.panic = r // never unwind through the library's C++ frames
		}
	}()
	st.fn(ProgressEvent{
		Kind:      ProgressKind(event.kind),
		Step:      int(event.step),
		Total:     int(event.total),
		Title:     C.GoString(event.title),
		Detail:    C.GoString(event.detail),
		ElapsedMs: float64(event.elapsed_ms),
	})
}
