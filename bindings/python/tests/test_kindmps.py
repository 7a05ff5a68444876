"""Tests of the Python bindings against the freshly built libkindmps ($KINDMPS_LIBRARY).

Docker tests skip when the engine is unreachable, unless KMPS_REQUIRE_DOCKER=1."""

import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest
import unittest.mock

import kindmps

MISSING_SOCKET = "unix:///nonexistent-kmps-py/docker.sock"
MISSING_ROOT = "/nonexistent-kmps-py-root"


class LibraryTest(unittest.TestCase):
    def test_version(self):
        v = kindmps.version()
        self.assertRegex(v, r"^\d+\.\d+\.\d+$")
        expected = os.environ.get("KMPS_EXPECTED_VERSION")
        if expected:
            self.assertEqual(v, expected)

    def test_host_inspect_missing_driver_returns_the_inventory(self):
        inv = kindmps.host_inspect(MISSING_ROOT, MISSING_ROOT)
        self.assertIsInstance(inv, dict)
        self.assertFalse(inv["complete"])
        self.assertTrue(any("libcuda.so.1" in m for m in inv["missing"]), inv["missing"])

    def test_host_inspect_require_complete_raises_with_the_inventory(self):
        with self.assertRaises(kindmps.EnvironmentMissing) as cm:
            kindmps.host_inspect(MISSING_ROOT, MISSING_ROOT, require_complete=True)
        self.assertEqual(cm.exception.code, 3)
        self.assertEqual(cm.exception.kind, "environment missing")
        self.assertIn(MISSING_ROOT, str(cm.exception))
        self.assertFalse(cm.exception.result["complete"])

    def test_kind_config_invalid_json_names_line_and_column(self):
        with self.assertRaises(kindmps.InvalidArgument) as cm:
            kindmps.kind_config('{\n "workers": ]}')
        self.assertTrue(str(cm.exception).startswith("<options>:2:13: invalid JSON"), str(cm.exception))
        self.assertEqual(cm.exception.code, 2)
        self.assertIsInstance(cm.exception, ValueError)

    def test_kind_config_unknown_key(self):
        with self.assertRaises(kindmps.InvalidArgument) as cm:
            kindmps.kind_config({"wrokers": 1})
        self.assertIn("wrokers", str(cm.exception))

    def test_kind_config_missing_driver(self):
        with self.assertRaises(kindmps.EnvironmentMissing) as cm:
            kindmps.kind_config({"driverRoot": MISSING_ROOT})
        self.assertIn(MISSING_ROOT, str(cm.exception))

    def test_unsupported_docker_host(self):
        with self.assertRaises(kindmps.InvalidArgument) as cm:
            kindmps.Client("ssh://x")
        self.assertIn("ssh://x", str(cm.exception))

    def test_missing_socket_is_unavailable(self):
        with kindmps.Client(MISSING_SOCKET) as c:
            for call in (c.ping, lambda: c.exec("x", ["true"]), lambda: c.status("kmps-py-none"),
                         lambda: c.mps_command("get_server_list", cluster="kmps-py-none"),
                         lambda: c.mps_command_all("get_server_list", cluster="kmps-py-none")):
                with self.assertRaises(kindmps.Unavailable) as cm:
                    call()
                self.assertIsInstance(cm.exception, kindmps.EnvironmentMissing)
                self.assertEqual(cm.exception.code, 3)
                self.assertIn("/nonexistent-kmps-py/docker.sock", str(cm.exception))

    def test_up_options_are_checked_first(self):
        with kindmps.Client(MISSING_SOCKET) as c:
            with self.assertRaises(kindmps.InvalidArgument) as cm:
                c.up({"recreate": "yes"})
            self.assertIn("recreate", str(cm.exception))

    def test_closed_client_and_bad_arguments(self):
        c = kindmps.Client(MISSING_SOCKET)
        with self.assertRaises(kindmps.InvalidArgument):
            c.exec("x", "echo hi")  # one string, not a list
        with self.assertRaises(kindmps.InvalidArgument):
            c.exec("x", [])
        with self.assertRaises(kindmps.InvalidArgument):
            c.mps_command("")
        for command in ("", None):
            with self.assertRaises(kindmps.InvalidArgument) as cm:
                c.mps_command_all(command)
            self.assertIn("command", str(cm.exception))
        c.close()
        c.close()
        with self.assertRaises(kindmps.InvalidArgument):
            c.ping()
        with self.assertRaises(kindmps.InvalidArgument):
            c.mps_command_all("get_server_list")

    def test_mps_replies_mark_failures_with_the_class_of_their_kind(self):
        replies = kindmps._mps_replies("""{"replies": [
            {"node": "a", "ok": true, "reply": "42\\n"},
            {"node": "b", "ok": false, "error": "b: no MPS control daemon", "code": "failed"},
            {"node": "c", "ok": false, "error": "c: timed out", "code": "timeout"},
            {"node": "d", "ok": false, "error": "d: unknown MPS command", "code": "invalid argument"},
            {"node": "e", "ok": false, "error": "e: ?", "code": "no such kind"}]}""")
        self.assertEqual(replies[0], kindmps.MpsReply("a", True, "42\n", None))
        expected = [("b", kindmps.OperationFailed, 1, "failed"), ("c", kindmps.Timeout, 1, "timeout"),
                    ("d", kindmps.InvalidArgument, 2, "invalid argument"), ("e", kindmps.OperationFailed, 1, "failed")]
        for r, (node, cls, code, kind) in zip(replies[1:], expected):
            self.assertEqual((r.node, r.ok, r.reply), (node, False, None))
            self.assertIs(type(r.error), cls, r)
            self.assertEqual((r.error.code, r.error.kind), (code, kind))
            self.assertTrue(str(r.error).startswith(node + ": "), r.error)
        self.assertEqual(kindmps._mps_replies('{"replies": []}'), [])
        for bad in ("{}", "[", '{"replies": 1}', '{"replies": [{"ok": true}]}'):
            with self.assertRaises(kindmps.ProtocolError):
                kindmps._mps_replies(bad)

    def test_errors_are_per_thread(self):
        seen = {}

        def other():
            try:
                kindmps.Client("ssh://from-thread")
            except kindmps.KindmpsError as e:
                seen["error"] = str(e)

        with kindmps.Client(MISSING_SOCKET) as c:
            with self.assertRaises(kindmps.Unavailable) as cm:
                t = threading.Thread(target=other)
                t.start()
                t.join()
                c.ping()
        self.assertIn("ssh://from-thread", seen["error"])
        self.assertNotIn("ssh://", str(cm.exception))


class PackageTest(unittest.TestCase):
    """The package's version and where it looks for the library (without loading another one)."""

    def test_package_version_is_the_projects(self):
        self.assertRegex(kindmps.__version__, r"^\d+\.\d+\.\d+$")
        expected = os.environ.get("KMPS_EXPECTED_VERSION")
        if expected:
            self.assertEqual(kindmps.__version__, expected, "bindings/python/kindmps/_version.py "
                             "must say the version of project(kindmps VERSION ...) in CMakeLists.txt")

    def test_an_explicit_library_is_the_only_candidate(self):
        with unittest.mock.patch.dict(os.environ, {"KINDMPS_LIBRARY": "/x/libkindmps.so"}):
            self.assertEqual(kindmps._candidates(), (["/x/libkindmps.so"], []))

    def test_pkg_config_comes_first_without_an_explicit_library(self):
        if not shutil.which("pkg-config"):
            self.skipTest("no pkg-config")
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "kindmps.pc"), "w") as f:
                f.write("libdir=/opt/kmps-test/lib\nName: kindmps\nDescription: x\nVersion: 0.1.0\n")
            env = {k: v for k, v in os.environ.items() if k != "KINDMPS_LIBRARY"}
            env["PKG_CONFIG_PATH"] = d
            with unittest.mock.patch.dict(os.environ, env, clear=True):
                paths, notes = kindmps._candidates()
        self.assertEqual(paths[0], "/opt/kmps-test/lib/libkindmps.so.0")
        self.assertEqual(paths[-1], "libkindmps.so.0")
        self.assertFalse([n for n in notes if n.startswith("pkg-config")], notes)

    def test_nothing_loads_is_one_line_naming_each_place(self):
        with self.assertRaises(kindmps.EnvironmentMissing) as cm:
            kindmps._load(["/nonexistent-kmps-py/libkindmps.so.0", "/nonexistent-kmps-py/b.so"],
                          ["pkg-config: no kindmps (PKG_CONFIG_PATH=)"])
        msg = str(cm.exception)
        self.assertNotIn("\n", msg)
        self.assertEqual(cm.exception.code, 3)
        for part in ("cannot load libkindmps", "KINDMPS_LIBRARY", "PKG_CONFIG_PATH", "pkg-config: no kindmps",
                     "/nonexistent-kmps-py/libkindmps.so.0:", "/nonexistent-kmps-py/b.so:"):
            self.assertIn(part, msg)


class ErrorKindTableTest(unittest.TestCase):
    """The binding's exception classes against the library's own table of error kinds."""

    def test_every_library_error_kind_has_an_exception_class(self):
        lib = kindmps._lib()
        self.assertEqual(lib.kmps_error_kind_name(0), b"none")
        kinds = {k: lib.kmps_error_kind_name(k).decode() for k in range(1, 256)}
        library = {name for name in kinds.values() if name != "unknown"}
        self.assertGreaterEqual(len(library), 13)
        # Equal sets: no kind of the library without a class, no class for a kind it lacks.
        self.assertEqual(set(kindmps._KIND_CLASSES), library)
        for name, cls in kindmps._KIND_CLASSES.items():
            self.assertTrue(issubclass(cls, kindmps.KindmpsError), name)
            self.assertIn(cls.__name__, kindmps.__all__, name)

    def test_a_failure_raises_the_class_of_its_kind(self):
        with self.assertRaises(kindmps.Unavailable) as cm:
            with kindmps.Client(MISSING_SOCKET) as c:
                c.ping()
        self.assertIs(type(cm.exception), kindmps._KIND_CLASSES[cm.exception.kind])


def docker_client_or_skip(test):
    c = kindmps.Client()
    try:
        c.ping()
    except kindmps.KindmpsError as e:
        c.close()
        if os.environ.get("KMPS_REQUIRE_DOCKER") == "1":
            test.fail(f"Docker is unreachable and KMPS_REQUIRE_DOCKER=1: {e}")
        test.skipTest(f"Docker is unreachable: {e}")
    if shutil.which("docker") is None:
        c.close()
        test.skipTest("the docker CLI (test setup only) is not installed")
    return c


class DockerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.container = f"kmps-capi-py-{os.getpid()}"
        cls.cluster = f"kmps-capi-py-none-{os.getpid()}"
        cls.started = False

    def setUp(self):
        self.client = docker_client_or_skip(self)
        if not DockerTest.started:
            subprocess.run(["docker", "run", "-d", "--name", self.container, "--cap-add", "SYS_ADMIN",
                            "kmps-test:busybox", "sleep", "600"], check=True, stdout=subprocess.DEVNULL)
            DockerTest.started = True

    def tearDown(self):
        self.client.close()

    @classmethod
    def tearDownClass(cls):
        if cls.started:
            subprocess.run(["docker", "rm", "-f", cls.container], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)

    def test_exec_captures_output_and_exit_code(self):
        r = self.client.exec(self.container, ["sh", "-c", "echo hi; echo oops >&2; exit 7"])
        self.assertEqual(r, kindmps.ExecResult(7, b"hi\n", b"oops\n"))

    def test_exec_is_binary_safe_and_takes_env(self):
        r = self.client.exec(self.container, ["printf", "a\\000b"])
        self.assertEqual(r.stdout, b"a\x00b")
        r = self.client.exec(self.container, ["sh", "-c", 'echo "$KMPS_A"'], env={"KMPS_A": "from python"})
        self.assertEqual(r.stdout, b"from python\n")

    def test_exec_timeout(self):
        with self.assertRaises(kindmps.Timeout) as cm:
            self.client.exec(self.container, ["sleep", "5"], timeout=0.5)
        self.assertIsInstance(cm.exception, TimeoutError)

    def test_exec_missing_container(self):
        with self.assertRaises(kindmps.NotFound) as cm:
            self.client.exec("kmps-capi-no-such-container", ["true"])
        self.assertIn("kmps-capi-no-such-container", str(cm.exception))
        self.assertEqual(cm.exception.code, 1)

    def test_clients_run_concurrently_in_threads(self):
        results = [None] * 4

        def work(i):
            with kindmps.Client() as c:
                results[i] = c.exec(self.container, ["sh", "-c", f"echo {i}"]).stdout

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [f"{i}\n".encode() for i in range(4)])

    def test_status_of_a_cluster_that_is_not_there(self):
        # No node and no saved state: not found, which is not "unhealthy".
        with self.assertRaises(kindmps.NotFound) as cm:
            self.client.status(self.cluster)
        self.assertIn("no cluster named " + self.cluster, str(cm.exception))
        with self.assertRaises(kindmps.NotFound) as cm:
            self.client.mps_command("get_server_list", cluster=self.cluster)
        self.assertIn("no cluster named", str(cm.exception))
        with self.assertRaises(kindmps.NotFound):
            self.client.mps_command("get_server_list", cluster=self.cluster, node="kmps-nonode")
        # Nothing sent: raised, not a list.
        with self.assertRaises(kindmps.NotFound) as cm:
            self.client.mps_command_all("get_server_list", cluster=self.cluster)
        self.assertIn("no cluster named", str(cm.exception))

    def test_up_reports_progress_and_stops_without_a_driver(self):
        events = []
        with self.assertRaises(kindmps.EnvironmentMissing):
            self.client.up({"name": self.cluster, "driverRoot": MISSING_ROOT}, progress=events.append)
        self.assertEqual([(e.kind, e.step, e.total) for e in events], [("started", 1, 6), ("failed", 1, 6)])
        self.assertIn("Inspect", events[0].title)
        self.assertIn(MISSING_ROOT, events[1].detail)

    def test_progress_callback_exception_is_raised_to_the_caller(self):
        def boom(_event):
            raise RuntimeError("from the callback")

        with self.assertRaisesRegex(RuntimeError, "from the callback"):
            self.client.down(self.cluster, keep_cluster=True, progress=boom)

    def test_down_without_kind(self):
        events = []
        with self.assertRaises(kindmps.EnvironmentMissing) as cm:
            self.client.down(self.cluster, kind="/nonexistent-kmps-py/kind", progress=events.append)
        self.assertIn("/nonexistent-kmps-py/kind", str(cm.exception))
        # kind is checked before any step: no daemon is stopped when it is missing.
        self.assertEqual([e.kind for e in events if e.kind != "line"], [])
        self.client.down(self.cluster, keep_cluster=True)


if __name__ == "__main__":
    unittest.main()
