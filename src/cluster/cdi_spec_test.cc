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

// A daemon per GPU: a device per GPU with its pipe directory and its device node alone, the node's
// device being its first GPU's; a node's masked GPUs are in no device.
TEST(RenderCdiSpec, ADevicePerGpuDaemonWithItsOwnGpuOnly) {
  config::ClusterConfig config;
  config.mps.daemons = config::MpsSettings::Daemons::kPerGpu;
  kind::HostInventory inv;
  inv.dev_root = "/";
  inv.devices = {{"/dev/nvidia0", 195, 0}, {"/dev/nvidia1", 195, 1}, {"/dev/nvidia2", 195, 2}, {"/dev/nvidiactl", 195, 255}};
  std::vector<DaemonPlan> daemons = {{1, DaemonSettings(config.mps, 1), "GPU-b"}, {2, DaemonSettings(config.mps, 2), "GPU-c"}};
  auto spec = nlohmann::json::parse(RenderCdiSpec("w", config, inv, daemons, std::vector<int>{1, 2}));
  ASSERT_EQ(spec["devices"].size(), 3u);
  auto paths = [&](size_t i) {
    std::vector<std::string> out;
    for (const auto& d : spec["devices"][i]["containerEdits"]["deviceNodes"]) out.push_back(d["path"]);
    return out;
  };
  EXPECT_EQ(spec["devices"][0]["name"], "w");
  EXPECT_EQ(paths(0), (std::vector<std::string>{"/dev/nvidia1", "/dev/nvidiactl"}));
  EXPECT_EQ(spec["devices"][2]["name"], "w-gpu2");
  EXPECT_EQ(paths(2), (std::vector<std::string>{"/dev/nvidia2", "/dev/nvidiactl"}));
  EXPECT_EQ(spec["devices"][2]["containerEdits"]["env"][0], "CUDA_MPS_PIPE_DIRECTORY=/tmp/nvidia-mps/gpu2");
  EXPECT_EQ(spec["devices"][2]["containerEdits"]["mounts"][1]["containerPath"], "/tmp/nvidia-mps/gpu2/control_privileged");
  // One daemon over GPUs 1 and 2 of three: GPU 0 is in no device.
  auto one = nlohmann::json::parse(RenderCdiSpec("w", config::ClusterConfig{}, inv, {}, std::vector<int>{1, 2}));
  ASSERT_EQ(one["devices"].size(), 1u);
  EXPECT_EQ(one["devices"][0]["containerEdits"]["deviceNodes"].size(), 3u);
}

}  // namespace
}  // namespace kmps::cluster
