"""The whole flow through the bindings: up / status / mps / down against the real Docker engine,
with the project's stand-in kind and the MPS emulator mounted from a fake NVIDIA host tree
(tools/make-fake-host.sh), as tests/e2e/cluster_e2e.sh does for the CLI.

Needs $KMPS_BUILD_DIR (the build tree with tools/fake-kind/kind and tools/mps-emu), root (mknod),
and Docker; skips otherwise, unless KMPS_REQUIRE_DOCKER=1."""

import os
import shutil
import subprocess
import tempfile
import unittest

import kindmps

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


class EndToEndTest(unittest.TestCase):
    def setUp(self):
        build = os.environ.get("KMPS_BUILD_DIR")
        if not build:
            self.skipTest("KMPS_BUILD_DIR is not set (ctest sets it)")
        self.kind = os.path.join(build, "tools", "fake-kind", "kind")
        emu = os.path.join(build, "tools", "mps-emu")
        if os.geteuid() != 0:
            self.skipTest("needs root (mknod for the fake host's devices)")
        self.client = kindmps.Client()
        try:
            self.client.ping()
        except kindmps.KindmpsError as e:
            self.client.close()
            if os.environ.get("KMPS_REQUIRE_DOCKER") == "1":
                self.fail(f"Docker is unreachable and KMPS_REQUIRE_DOCKER=1: {e}")
            self.skipTest(f"Docker is unreachable: {e}")
        self.work = tempfile.mkdtemp(prefix="kmps-capi-e2e.")
        self.name = f"kmps-capi-e2e-{os.getpid()}"
        self.env_saved = {k: os.environ.get(k) for k in ("KMPS_STATE_DIR", "KMPS_FAKE_KIND_IMAGE")}
        os.environ["KMPS_STATE_DIR"] = os.path.join(self.work, "state")
        os.environ["KMPS_FAKE_KIND_IMAGE"] = os.environ.get("KMPS_TEST_IMAGE", "kmps-test:busybox")
        self.host = subprocess.run([os.path.join(SRC, "tools", "make-fake-host.sh"), os.path.join(self.work, "host"),
                                    emu], check=True, capture_output=True, text=True).stdout.strip()

    def tearDown(self):
        subprocess.run([self.kind, "delete", "cluster", "--name", self.name], capture_output=True)
        self.client.close()
        shutil.rmtree(self.work, ignore_errors=True)
        for k, v in self.env_saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_up_status_mps_down(self):
        inv = kindmps.host_inspect(self.host, self.host, require_complete=True)
        self.assertTrue(inv["complete"])
        self.assertEqual(inv["driverVersion"], "580.159.04")

        options = {"name": self.name, "driverRoot": self.host, "devRoot": self.host}
        yaml = kindmps.kind_config(options)
        self.assertIn("kind: Cluster", yaml)
        self.assertIn("containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.1", yaml)

        with self.assertRaises(kindmps.InvalidArgument) as cm:
            kindmps.kind_config(dict(options, extraMounts=[{"hostPath": "/nonexistent-kmps-py", "containerPath": "/x"}]))
        self.assertIn("/nonexistent-kmps-py", str(cm.exception))

        events = []
        doc = self.client.up(dict(options, kind=self.kind), progress=events.append)
        self.assertTrue(doc["healthy"], doc)
        self.assertTrue(doc["created"])
        self.assertIn("totalMs", doc["timings"])
        self.assertTrue(os.path.isfile(doc["kindConfig"]))
        steps = [(e.kind, e.step) for e in events if e.kind != "line"]
        self.assertEqual(steps, [(k, s) for s in range(1, 7) for k in ("started", "done")])
        self.assertTrue(any(e.kind == "line" and e.detail.startswith("kind: ") for e in events))
        node = doc["nodes"][0]
        self.assertEqual(node["shmBytes"], 8 << 30)
        server_pid = node["mps"]["servers"][0]["pid"]

        status = self.client.status(self.name)
        self.assertTrue(status["healthy"])
        self.assertEqual(status["nodes"][0]["mps"]["control"]["pid"], node["mps"]["control"]["pid"])

        # One server. (Its pid in the node's namespace; status shows the host's pid from `top`, so the
        # two differ: the same as the CLI's e2e test sees.)
        servers = self.client.mps_command("get_server_list", cluster=self.name).split()
        self.assertEqual(len(servers), 1, servers)
        self.assertTrue(servers[0].isdigit() and server_pid > 0, servers)
        self.assertEqual(self.client.mps_command("set_default_active_thread_percentage 50", cluster=self.name,
                                                 node=f"{self.name}-control-plane").strip(), "50.0")
        with self.assertRaises(kindmps.InvalidArgument):
            self.client.mps_command("no_such_command", cluster=self.name)
        # Every GPU node at once: a list of replies; a node's failure is marked, not raised.
        replies = self.client.mps_command_all("get_server_list", cluster=self.name)
        self.assertEqual([(r.node, r.ok, r.reply.split()) for r in replies],
                         [(f"{self.name}-control-plane", True, servers)])
        replies = self.client.mps_command_all("no_such_command", cluster=self.name)
        self.assertEqual([(r.node, r.ok, r.reply) for r in replies], [(f"{self.name}-control-plane", False, None)])
        self.assertIsInstance(replies[0].error, kindmps.InvalidArgument)
        self.assertEqual(replies[0].error.code, 2)

        # The same cluster again: kept, not recreated.
        again = self.client.up(dict(options, kind=self.kind))
        self.assertFalse(again["created"])

        self.client.down(self.name, kind=self.kind, keep_cluster=True)
        status = self.client.status(self.name)
        self.assertFalse(status["healthy"])
        self.client.down(self.name, kind=self.kind)
        # Deleted, and its state with it: no such cluster, which is not "unhealthy".
        with self.assertRaises(kindmps.NotFound) as gone:
            self.client.status(self.name)
        self.assertIn("no cluster named " + self.name, str(gone.exception))


if __name__ == "__main__":
    unittest.main()
