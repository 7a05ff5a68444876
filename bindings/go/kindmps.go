// Package kindmps is the Go binding of libkindmps, the C ABI of kindmps-api: NVIDIA MPS in kind
// clusters through the Docker Engine API.
//
// cgo finds the library and header through pkg-config (kindmps.pc): an install into /usr or
// /usr/local (cmake --install, the kindmps-api .deb) needs nothing more, another prefix needs
// PKG_CONFIG_PATH=<prefix>/lib/pkgconfig (and the library on the loader's path at run time).
//
// Errors are *Error values with the CLI's exit code and a kind; compare them with errors.Is
// against ErrNotFound, ErrUnavailable, ErrTimeout, ... Results that the library returns together
// with a failure (an incomplete host inventory, an unhealthy cluster's status) come back with
// the error.
//
// A Client serializes its own calls, so it may be shared by goroutines; different clients run
// concurrently.
package kindmps

/*
#cgo pkg-config: kindmps
#include <stdint.h>
#include <stdlib.h>
#include <kindmps.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Version is the library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.kmps_version_string()) }

// call runs f on one locked OS thread, so that the thread-local last error read after it is f's.
func call(f func() C.int) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return lastError(f())
}

// cstr is a C copy of s (nil for ""), freed by the returned function.
func cstr(s string) (*C.char, func()) {
	if s == "" {
		return nil, func() {}
	}
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }
}

// take copies and frees a string the library handed out.
func take(p *C.char) (string, bool) {
	if p == nil {
		return "", false
	}
	defer C.kmps_free(unsafe.Pointer(p))
	return C.GoString(p), true
}

// takeDoc decodes, with dec, a document the library handed out together with the call's result
// callErr: the document (the zero value when out is nil) and callErr, or dec's error when the
// document is bad.
func takeDoc[T any](out *C.char, callErr error, dec func(string) (T, error)) (T, error) {
	var doc T
	text, ok := take(out)
	if !ok {
		return doc, callErr
	}
	doc, err := dec(text)
	if err != nil {
		var zero T
		return zero, err
	}
	return doc, callErr
}

func decode(text string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, &Error{Code: CodeFailed, Kind: KindProtocol, Msg: "kindmps: bad JSON from the library: " + err.Error()}
	}
	return m, nil
}

// HostInspect inventories the NVIDIA driver files, MPS binaries, device nodes and CDI specs under
// driverRoot and devRoot ("" means "/"), as `kindmps-api inspect --json` prints them. When
// something required is missing it returns the inventory ("complete": false, "missing": [...])
// AND an error of kind KindEnvironment.
func HostInspect(driverRoot, devRoot string) (map[string]any, error) {
	dr, free1 := cstr(driverRoot)
	defer free1()
	dv, free2 := cstr(devRoot)
	defer free2()
	var out *C.char
	err := call(func() C.int { return C.kmps_host_inspect(dr, dv, &out) })
	text, ok := take(out)
	if !ok {
		return nil, err
	}
	inv, jerr := decode(text)
	if jerr != nil {
		return nil, jerr
	}
	return inv, err
}

// KindConfig renders the kind Cluster config (YAML) for this host. options holds kindmps.yaml's
// keys (name, workers, image, gpuNodes, shmSize, mps, driverRoot, devRoot, ...); nil means the
// defaults.
func KindConfig(options map[string]any) (string, error) {
	text, err := optionsJSON(options)
	if err != nil {
		return "", err
	}
	return KindConfigJSON(text)
}

// KindConfigJSON is KindConfig with the options as JSON text.
func KindConfigJSON(optionsJSON string) (string, error) {
	opts, free := cstr(optionsJSON)
	defer free()
	var out *C.char
	err := call(func() C.int { return C.kmps_kind_config(opts, &out) })
	yaml, _ := take(out)
	return yaml, err
}

func optionsJSON(options map[string]any) (string, error) {
	if options == nil {
		return "", nil
	}
	b, err := json.Marshal(options)
	if err != nil {
		return "", invalid("kindmps: options: %v", err)
	}
	return string(b), nil
}

// Client is a Docker Engine API client (kmps_client). Close it when done.
type Client struct {
	mu     sync.Mutex
	handle *C.kmps_client
}

// NewClient creates a client for dockerHost ("unix:///path" or "tcp://host:port"; "" means
// $DOCKER_HOST, else unix:///var/run/docker.sock). It does not connect.
func NewClient(dockerHost string) (*Client, error) {
	host, free := cstr(dockerHost)
	defer free()
	var h *C.kmps_client
	if err := call(func() C.int { return C.kmps_client_new(&h, host) }); err != nil {
		return nil, err
	}
	c := &Client{handle: h}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees the client. It is idempotent; later calls fail with ErrInvalidArgument.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle != nil {
		C.kmps_client_free(c.handle)
		c.handle = nil
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// with runs f with the handle, serialized.
func (c *Client) with(f func(h *C.kmps_client) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle == nil {
		return invalid("kindmps: the client is closed")
	}
	return f(c.handle)
}

// Ping checks that the daemon answers (ErrUnavailable, ErrPermission otherwise).
func (c *Client) Ping() error {
	return c.with(func(h *C.kmps_client) error {
		return call(func() C.int { return C.kmps_client_ping(h) })
	})
}

// ExecOptions are the optional settings of Exec.
type ExecOptions struct {
	Env     []string      // "KEY=value"
	Timeout time.Duration // 0: 60 s; past it the error is ErrTimeout
}

// ExecResult is a finished command: its exit code and its captured output.
type ExecResult struct {
	ExitCode int
	Stdout   []byte
	Stderr   []byte
}

// cstrings is a NULL-terminated C array of copies of items (nil for nil), freed by the returned
// function.
func cstrings(items []string) (**C.char, func()) {
	if items == nil {
		return nil, func() {}
	}
	size := C.size_t(unsafe.Sizeof((*C.char)(nil)))
	arr := (*[1 << 28]*C.char)(C.malloc(size * C.size_t(len(items)+1)))[: len(items)+1 : len(items)+1]
	for i, s := range items {
		arr[i] = C.CString(s)
	}
	arr[len(items)] = nil
	return &arr[0], func() {
		for _, p := range arr {
			if p != nil {
				C.free(unsafe.Pointer(p))
			}
		}
		C.free(unsafe.Pointer(&arr[0]))
	}
}

// Exec runs argv (no shell) in a running container and captures its output and exit code. A
// command that exits non-zero is a result, not an error. opts may be nil.
func (c *Client) Exec(container string, argv []string, opts *ExecOptions) (*ExecResult, error) {
	if len(argv) == 0 {
		return nil, invalid("kindmps: Exec needs a command")
	}
	if opts == nil {
		opts = &ExecOptions{}
	}
	cont, free1 := cstr(container)
	defer free1()
	cargv, free2 := cstrings(argv)
	defer free2()
	cenv, free3 := cstrings(opts.Env)
	defer free3()
	timeoutMs := 0
	if opts.Timeout > 0 {
		timeoutMs = int(opts.Timeout / time.Millisecond)
		if timeoutMs == 0 {
			timeoutMs = 1
		}
	}
	var result *ExecResult
	err := c.with(func(h *C.kmps_client) error {
		var out *C.kmps_exec_result
		if err := call(func() C.int { return C.kmps_client_exec(h, cont, cargv, cenv, C.int(timeoutMs), &out) }); err != nil {
			return err
		}
		defer C.kmps_exec_result_free(out)
		result = &ExecResult{
			ExitCode: int(out.exit_code),
			Stdout:   C.GoBytes(unsafe.Pointer(out.out), C.int(out.out_len)),
			Stderr:   C.GoBytes(unsafe.Pointer(out.err), C.int(out.err_len)),
		}
		return nil
	})
	return result, err
}

// Status reads the cluster's status (`kindmps-api status --json`); cluster "" means
// $KIND_CLUSTER_NAME, else kind. An unhealthy cluster returns the document AND an error
// of kind KindFailed.
func (c *Client) Status(cluster string) (map[string]any, error) {
	name, free := cstr(cluster)
	defer free()
	var doc map[string]any
	err := c.with(func(h *C.kmps_client) error {
		var out *C.char
		err := call(func() C.int { return C.kmps_cluster_status(h, name, &out) })
		doc, err = takeDoc(out, err, decode)
		return err
	})
	return doc, err
}

// Up creates the kind cluster if needed and starts MPS in its GPU nodes. options holds
// kindmps.yaml's keys plus "kind" (the kind binary) and "recreate" (bool); progress may be nil.
// It returns `up --json`'s document; an unhealthy cluster returns the document AND an error of
// kind KindFailed.
func (c *Client) Up(options map[string]any, progress ProgressFunc) (map[string]any, error) {
	text, err := optionsJSON(options)
	if err != nil {
		return nil, err
	}
	opts, free := cstr(text)
	defer free()
	var doc map[string]any
	err = c.with(func(h *C.kmps_client) error {
		var callErr error
		var out *C.char
		withProgress(progress, func(handle C.uintptr_t) {
			callErr = call(func() C.int { return goUp(h, opts, handle, &out) })
		})
		doc, callErr = takeDoc(out, callErr, decode)
		return callErr
	})
	return doc, err
}

// DownOptions are the optional settings of Down.
type DownOptions struct {
	Kind        string // the kind binary; "" means kind on PATH
	KeepCluster bool   // only quit the MPS daemons
	Progress    ProgressFunc
}

// Down quits the MPS daemons of every running GPU node, then deletes the kind cluster. opts may
// be nil.
func (c *Client) Down(cluster string, opts *DownOptions) error {
	if opts == nil {
		opts = &DownOptions{}
	}
	name, free1 := cstr(cluster)
	defer free1()
	kind, free2 := cstr(opts.Kind)
	defer free2()
	keep := C.int(0)
	if opts.KeepCluster {
		keep = 1
	}
	return c.with(func(h *C.kmps_client) error {
		var err error
		withProgress(opts.Progress, func(handle C.uintptr_t) {
			err = call(func() C.int { return goDown(h, name, kind, keep, handle) })
		})
		return err
	})
}

// MpsCommand sends one command to the MPS control daemon of node ("" means the cluster's only
// GPU node) and returns the daemon's reply.
func (c *Client) MpsCommand(cluster, node, command string) (string, error) {
	if command == "" {
		return "", invalid("kindmps: MpsCommand needs a command, e.g. get_server_list")
	}
	name, free1 := cstr(cluster)
	defer free1()
	nd, free2 := cstr(node)
	defer free2()
	cmd, free3 := cstr(command)
	defer free3()
	var reply string
	err := c.with(func(h *C.kmps_client) error {
		var out *C.char
		err := call(func() C.int { return C.kmps_mps_command(h, name, nd, cmd, &out) })
		reply, _ = take(out)
		return err
	})
	return reply, err
}

// MpsReply is one GPU node's answer to MpsCommandAll: the daemon's Reply when OK, else Err, an
// *Error whose Kind comes from the node's "code" and whose Msg is its one-line "error".
type MpsReply struct {
	Node  string
	OK    bool
	Reply string
	Err   error // nil when OK
}

// MpsCommandAll sends one command to the MPS control daemon of every GPU node of the cluster at
// once (`kindmps-api mps --all`) and returns one reply per node, in node-name order. When some
// nodes fail it returns every node's reply AND the first failed node's error (the same as that
// reply's Err), so callers see both; failures before anything was sent (empty command, Docker
// unreachable, no GPU node) return nil replies and the error.
func (c *Client) MpsCommandAll(cluster, command string) ([]MpsReply, error) {
	if command == "" {
		return nil, invalid("kindmps: MpsCommandAll needs a command, e.g. get_server_list")
	}
	name, free1 := cstr(cluster)
	defer free1()
	cmd, free2 := cstr(command)
	defer free2()
	var replies []MpsReply
	err := c.with(func(h *C.kmps_client) error {
		var out *C.char
		err := call(func() C.int { return C.kmps_mps_command_all(h, name, cmd, &out) })
		replies, err = takeDoc(out, err, decodeMpsReplies)
		return err
	})
	return replies, err
}

// decodeMpsReplies reads kmps_mps_command_all's {"replies": [...]}.
func decodeMpsReplies(text string) ([]MpsReply, error) {
	var doc struct {
		Replies *[]struct {
			Node  string `json:"node"`
			OK    bool   `json:"ok"`
			Reply string `json:"reply"`
			Error string `json:"error"`
			Code  string `json:"code"`
		} `json:"replies"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil || doc.Replies == nil {
		msg := "no \"replies\""
		if err != nil {
			msg = err.Error()
		}
		return nil, &Error{Code: CodeFailed, Kind: KindProtocol, Msg: "kindmps: bad JSON from the library: " + msg}
	}
	replies := make([]MpsReply, 0, len(*doc.Replies))
	for _, r := range *doc.Replies {
		reply := MpsReply{Node: r.Node, OK: r.OK, Reply: r.Reply}
		if !r.OK {
			kind := kindNamed(r.Code)
			reply.Err = &Error{Code: sentinels[kind].Code, Kind: kind, Msg: r.Error}
		}
		replies = append(replies, reply)
	}
	return replies, nil
}

// kindNamed is the error kind whose kmps_error_kind_name is name (a reply's "code"). KindFailed
// for a name the library does not have.
func kindNamed(name string) ErrorKind {
	for k := range sentinels {
		if k.String() == name {
			return k
		}
	}
	return KindFailed
}
