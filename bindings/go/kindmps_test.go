package kindmps

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	missingSocket = "unix:///nonexistent-kmps-go/docker.sock"
	missingRoot   = "/nonexistent-kmps-go-root"
)

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *kindmps.Error", err, err)
	}
	return e
}

func TestVersion(t *testing.T) {
	v := Version()
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("version %q", v)
	}
	if want := os.Getenv("KMPS_EXPECTED_VERSION"); want != "" && v != want {
		t.Fatalf("version %q, want %q", v, want)
	}
}

// The sentinels against the library's own table of error kinds (kmps_error_kind_name): every kind
// it has has a sentinel, and no sentinel is for a kind it lacks.
func TestEveryLibraryErrorKindHasASentinel(t *testing.T) {
	if name := KindNone.String(); name != "none" {
		t.Errorf("kind 0 is %q, want none", name)
	}
	known := 0
	for k := ErrorKind(1); k < 256; k++ {
		name := k.String()
		s, ok := sentinels[k]
		switch {
		case name == "unknown" && ok:
			t.Errorf("sentinel %v for kind %d, which the library does not have", s, k)
		case name == "unknown":
		case !ok:
			t.Errorf("the library's kind %d (%q) has no sentinel", k, name)
		default:
			known++
			if err := (&Error{Code: s.Code, Kind: k, Msg: "x"}); !errors.Is(err, s) || s.Error() != "kindmps: "+name {
				t.Errorf("kind %d (%q): sentinel %q does not match it", k, name, s.Error())
			}
		}
	}
	if known < 13 || known != len(sentinels) {
		t.Errorf("%d kinds in the library, %d sentinels", known, len(sentinels))
	}
}

func TestHostInspectMissingDriverReturnsInventoryAndError(t *testing.T) {
	inv, err := HostInspect(missingRoot, missingRoot)
	if !errors.Is(err, ErrEnvironment) || !errors.Is(err, ErrEnvironmentCode) {
		t.Fatalf("err = %v, want an environment error", err)
	}
	if e := asError(t, err); e.Code != CodeEnvironment || !strings.Contains(e.Msg, missingRoot) {
		t.Fatalf("error %+v", e)
	}
	if inv == nil || inv["complete"] != false {
		t.Fatalf("inventory %v", inv)
	}
	if !strings.Contains(fmt.Sprint(inv["missing"]), "libcuda.so.1") {
		t.Fatalf("missing = %v", inv["missing"])
	}
}

func TestKindConfigInvalidJSON(t *testing.T) {
	_, err := KindConfigJSON("{\n \"workers\": ]}")
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("err = %v", err)
	}
	if e := asError(t, err); e.Code != CodeInvalid || !strings.HasPrefix(e.Msg, "<options>:2:13: invalid JSON") {
		t.Fatalf("error %+v", e)
	}
	if _, err := KindConfig(map[string]any{"wrokers": 1}); !errors.Is(err, ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "wrokers") {
		t.Fatalf("unknown key: err = %v", err)
	}
	if _, err := KindConfig(map[string]any{"driverRoot": missingRoot}); !errors.Is(err, ErrEnvironment) {
		t.Fatalf("missing driver: err = %v", err)
	}
}

func TestUnsupportedDockerHost(t *testing.T) {
	c, err := NewClient("ssh://x")
	if c != nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "ssh://x") {
		t.Fatalf("NewClient(ssh://x) = %v, %v", c, err)
	}
}

func TestMissingSocketIsUnavailable(t *testing.T) {
	c, err := NewClient(missingSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	calls := map[string]func() error{
		"ping":   c.Ping,
		"exec":   func() error { _, err := c.Exec("x", []string{"true"}, nil); return err },
		"status": func() error { _, err := c.Status("kmps-go-none"); return err },
		"mps":    func() error { _, err := c.MpsCommand("kmps-go-none", "", "get_server_list"); return err },
		"mpsAll": func() error { _, err := c.MpsCommandAll("kmps-go-none", "get_server_list"); return err },
		"down":   func() error { return c.Down("kmps-go-none", &DownOptions{KeepCluster: true}) },
	}
	for name, f := range calls {
		err := f()
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrEnvironmentCode) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want unavailable", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "/nonexistent-kmps-go/docker.sock") {
			t.Errorf("%s: message %q does not name the socket", name, err)
		}
	}
	if _, err := c.Up(map[string]any{"recreate": "yes"}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("up with bad options: err = %v", err)
	}
	// Nothing was sent: no replies.
	if replies, err := c.MpsCommandAll("kmps-go-none", "get_server_list"); replies != nil || err == nil {
		t.Errorf("mps all = %v, %v", replies, err)
	}
}

func TestClosedClientAndBadArguments(t *testing.T) {
	c, err := NewClient(missingSocket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec("x", nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty argv: %v", err)
	}
	if _, err := c.Exec("", []string{"true"}, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty container: %v", err)
	}
	if _, err := c.MpsCommand("", "", ""); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty command: %v", err)
	}
	if replies, err := c.MpsCommandAll("", ""); replies != nil || !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("mps all, empty command: %v, %v", replies, err)
	}
	c.Close()
	c.Close()
	if err := c.Ping(); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("closed client: %v", err)
	}
	if _, err := c.MpsCommandAll("", "get_server_list"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("mps all, closed client: %v", err)
	}
}

// kmps_mps_command_all's document: every node's reply, failures as *Error of the node's kind
// (its "code" names the kind).
func TestDecodeMpsReplies(t *testing.T) {
	replies, err := decodeMpsReplies(`{"replies": [
	  {"node": "a", "ok": true, "reply": "42\n"},
	  {"node": "b", "ok": false, "error": "b: no MPS control daemon", "code": "failed"},
	  {"node": "c", "ok": false, "error": "c: timed out", "code": "timeout"},
	  {"node": "d", "ok": false, "error": "d: unknown MPS command", "code": "invalid argument"},
	  {"node": "e", "ok": false, "error": "e: ?", "code": "no such kind"}]}`)
	if err != nil || len(replies) != 5 {
		t.Fatalf("replies %+v, %v", replies, err)
	}
	if r := replies[0]; r.Node != "a" || !r.OK || r.Reply != "42\n" || r.Err != nil {
		t.Errorf("ok reply %+v", r)
	}
	want := []struct {
		sentinel *Error
		code     int
	}{{ErrFailed, CodeFailed}, {ErrTimeout, CodeFailed}, {ErrInvalidArgument, CodeInvalid}, {ErrFailed, CodeFailed}}
	for i, w := range want {
		r := replies[i+1]
		if r.OK || r.Reply != "" || !errors.Is(r.Err, w.sentinel) || asError(t, r.Err).Code != w.code ||
			!strings.HasPrefix(r.Err.Error(), r.Node+": ") {
			t.Errorf("failed reply %+v (err %#v), want %v", r, r.Err, w.sentinel)
		}
	}
	if replies, err := decodeMpsReplies(`{"replies": []}`); err != nil || replies == nil || len(replies) != 0 {
		t.Errorf("no nodes: %v, %v", replies, err)
	}
	for _, bad := range []string{`{}`, `[`, `{"replies": 1}`} {
		if _, err := decodeMpsReplies(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// The last error is read on the OS thread of the call, even with many goroutines failing
// differently at once.
func TestErrorsUnderConcurrency(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			if _, err := NewClient(fmt.Sprintf("ssh://host-%d", i)); !errors.Is(err, ErrInvalidArgument) ||
				!strings.Contains(err.Error(), fmt.Sprintf("ssh://host-%d", i)) {
				errs <- fmt.Errorf("client %d: %v", i, err)
			}
		}(i)
		go func() {
			defer wg.Done()
			if _, err := HostInspect(missingRoot, ""); !errors.Is(err, ErrEnvironment) {
				errs <- fmt.Errorf("inspect: %v", err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// ---- Docker ----

func dockerClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient("")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(); err != nil {
		c.Close()
		if os.Getenv("KMPS_REQUIRE_DOCKER") == "1" {
			t.Fatalf("Docker is unreachable and KMPS_REQUIRE_DOCKER=1: %v", err)
		}
		t.Skipf("Docker is unreachable: %v", err)
	}
	if _, err := exec.LookPath("docker"); err != nil {
		c.Close()
		t.Skip("the docker CLI (test setup only) is not installed")
	}
	return c
}

func startContainer(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("kmps-capi-go-%d-%s", os.Getpid(), strings.ToLower(t.Name()))
	out, err := exec.Command("docker", "run", "-d", "--name", name, "--cap-add", "SYS_ADMIN",
		"kmps-test:busybox", "sleep", "600").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	return name
}

func TestDockerExec(t *testing.T) {
	c := dockerClient(t)
	defer c.Close()
	name := startContainer(t)

	r, err := c.Exec(name, []string{"sh", "-c", "echo hi; echo oops >&2; exit 7"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitCode != 7 || string(r.Stdout) != "hi\n" || string(r.Stderr) != "oops\n" {
		t.Fatalf("result %+v", r)
	}
	r, err = c.Exec(name, []string{"printf", `a\000b`}, nil)
	if err != nil || string(r.Stdout) != "a\x00b" {
		t.Fatalf("binary output: %+v, %v", r, err)
	}
	r, err = c.Exec(name, []string{"sh", "-c", `echo "$KMPS_A"`}, &ExecOptions{Env: []string{"KMPS_A=from go"}})
	if err != nil || string(r.Stdout) != "from go\n" {
		t.Fatalf("env: %+v, %v", r, err)
	}
	_, err = c.Exec(name, []string{"sleep", "5"}, &ExecOptions{Timeout: 500 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("timeout: %v", err)
	}
	_, err = c.Exec("kmps-capi-no-such-container", []string{"true"}, nil)
	if !errors.Is(err, ErrNotFound) || asError(t, err).Code != CodeFailed ||
		!strings.Contains(err.Error(), "kmps-capi-no-such-container") {
		t.Fatalf("missing container: %v", err)
	}

	// One client shared by goroutines: its calls are serialized.
	var wg sync.WaitGroup
	outs := make([]string, 8)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := c.Exec(name, []string{"sh", "-c", fmt.Sprintf("echo %d", i)}, nil)
			if err == nil {
				outs[i] = string(r.Stdout)
			}
		}(i)
	}
	wg.Wait()
	for i, o := range outs {
		if o != fmt.Sprintf("%d\n", i) {
			t.Errorf("goroutine %d got %q", i, o)
		}
	}
}

func TestDockerClusterWithoutNodes(t *testing.T) {
	c := dockerClient(t)
	defer c.Close()
	cluster := fmt.Sprintf("kmps-capi-go-none-%d", os.Getpid())

	// No node and no saved state: not found, which is not "unhealthy", and no document.
	doc, err := c.Status(cluster)
	if !errors.Is(err, ErrNotFound) || doc != nil || !strings.Contains(err.Error(), "no cluster named "+cluster) {
		t.Fatalf("status = %v, %v", doc, err)
	}
	if _, err := c.MpsCommand(cluster, "", "get_server_list"); !errors.Is(err, ErrNotFound) ||
		!strings.Contains(err.Error(), "no cluster named") {
		t.Fatalf("mps: %v", err)
	}
	if _, err := c.MpsCommand(cluster, "kmps-nonode", "get_server_list"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mps on a missing node: %v", err)
	}
	if replies, err := c.MpsCommandAll(cluster, "get_server_list"); replies != nil || !errors.Is(err, ErrNotFound) ||
		!strings.Contains(err.Error(), "no cluster named") {
		t.Fatalf("mps all = %v, %v", replies, err)
	}

	var events []ProgressEvent
	doc, err = c.Up(map[string]any{"name": cluster, "driverRoot": missingRoot},
		func(e ProgressEvent) { events = append(events, e) })
	if !errors.Is(err, ErrEnvironment) || doc != nil {
		t.Fatalf("up = %v, %v", doc, err)
	}
	if len(events) != 2 || events[0].Kind != StepStarted || events[1].Kind != StepFailed ||
		events[1].Step != 1 || events[1].Total != 6 || !strings.Contains(events[1].Detail, missingRoot) {
		t.Fatalf("events %+v", events)
	}

	events = nil
	err = c.Down(cluster, &DownOptions{Kind: "/nonexistent-kmps-go/kind",
		Progress: func(e ProgressEvent) { events = append(events, e) }})
	if !errors.Is(err, ErrEnvironment) || !strings.Contains(err.Error(), "/nonexistent-kmps-go/kind") {
		t.Fatalf("down: %v", err)
	}
	var kinds []string
	for _, e := range events {
		if e.Kind != Line {
			kinds = append(kinds, e.Kind.String())
		}
	}
	// kind is checked before any step: no daemon is stopped when it is missing.
	if len(kinds) != 0 {
		t.Fatalf("down events %v", kinds)
	}

	// A panic in the callback reaches the caller after the library returned.
	func() {
		defer func() {
			if r := recover(); r != "from the callback" {
				t.Fatalf("recovered %v", r)
			}
		}()
		_ = c.Down(cluster, &DownOptions{KeepCluster: true, Progress: func(ProgressEvent) { panic("from the callback") }})
	}()
	if err := c.Ping(); err != nil {
		t.Fatalf("client unusable after a callback panic: %v", err)
	}
}
