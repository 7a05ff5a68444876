#include "cluster/cdi_spec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kmps::cluster {
namespace {

TEST(RenderCdiSpec, OneDeviceNamedAfterTheNodeWithWhatAClientNeeds) {
  config::ClusterConfig config;
  config.mps.pipe_directory = "/tmp/nvidia-mps";
  kind::HostInventory inv;
  inv.dev_root = "/host";
  inv.devices = {{"/host/dev/nvidia0", 195, 0}, {"/host/dev/nvidia-uvm", 238, 0}};
  inv.libraries = {{"libcuda.so.1", "/host/lib/libcuda.so.1", "/host/lib/libcuda.so.580.1", "580.1", true}};
  inv.binaries = {{"nvidia-cuda-mps-control", "/host/bin/nvidia-cuda-mps-control", "/host/bin/nvidia-cuda-mps-control",
                   true}};
  auto spec = nlohmann::json::parse(RenderCdiSpec("c-worker", config, inv));
  EXPECT_EQ(spec["cdiVersion"], "0.6.0");
  EXPECT_EQ(spec["kind"], "kindmps.dev/mps");
  ASSERT_EQ(spec["devices"].size(), 1u);
  const auto& d = spec["devices"][0];
  EXPECT_EQ(d["name"], "c-worker");
  const auto& edits = d["containerEdits"];
  EXPECT_EQ(edits["env"][0], "CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps");
  // Devices by type and number, at their path in the node (not the host's dev root).
  ASSERT_EQ(edits["deviceNodes"].size(), 2u);
  EXPECT_EQ(edits["deviceNodes"][0]["path"], "/dev/nvidia0");
  EXPECT_EQ(edits["deviceNodes"][0]["type"], "c");
  EXPECT_EQ(edits["deviceNodes"][0]["major"], 195);
  EXPECT_EQ(edits["deviceNodes"][1]["major"], 238);
  // The pipe directory read-write with its privileged socket masked (after it, so on top), the
  // libraries read-only where the node has them; no binary.
  ASSERT_EQ(edits["mounts"].size(), 3u);
  EXPECT_EQ(edits["mounts"][0]["containerPath"], "/tmp/nvidia-mps");
  EXPECT_EQ(edits["mounts"][0]["options"][1], "rw");
  EXPECT_EQ(edits["mounts"][1]["hostPath"], "/dev/null");
  EXPECT_EQ(edits["mounts"][1]["containerPath"], "/tmp/nvidia-mps/control_privileged");
  EXPECT_EQ(edits["mounts"][1]["options"][1], "ro");
  EXPECT_EQ(edits["mounts"][2]["hostPath"], "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
  EXPECT_EQ(edits["mounts"][2]["containerPath"], "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
  EXPECT_EQ(edits["mounts"][2]["options"][0], "ro");
  EXPECT_EQ(RenderCdiSpec("c-worker", config, inv).find("mps-control"), std::string::npos);
}

}  // namespace
}  // namespace kmps::cluster
