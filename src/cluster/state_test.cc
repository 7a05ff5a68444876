#include "cluster/state.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kmps::cluster {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kmps-state-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ::setenv("KMPS_STATE_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("KMPS_STATE_DIR");
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(StateTest, WhatUpSavedIsWhatStatusReads) {
  kind::ClusterConfig c = kind::DefaultClusterConfig();
  c.name = "saved";
  c.shm_bytes = 2ull << 30;
  c.shm_size = "2g";
  c.mps.pipe_directory = "/run/mps";
  c.mps.default_active_thread_percentage = 25;
  c.gpu_nodes = {"worker"};
  auto path = SaveState(c, "kind: Cluster\n");
  ASSERT_TRUE(path.ok()) << path.status().message();
  EXPECT_EQ(*path, (dir_ / "saved" / "kind-config.yaml").string());
  auto loaded = LoadSavedConfig("saved");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->shm_bytes, 2ull << 30);
  EXPECT_EQ(loaded->mps.pipe_directory, "/run/mps");
  EXPECT_EQ(loaded->mps.default_active_thread_percentage, 25);
  EXPECT_EQ(loaded->gpu_nodes, std::vector<std::string>{"worker"});
}

TEST_F(StateTest, NoSavedStateMeansTheDefaults) {
  auto loaded = LoadSavedConfig("never-up");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->name, "never-up");
  EXPECT_EQ(loaded->mps.pipe_directory, "/tmp/nvidia-mps");
}

TEST_F(StateTest, ACorruptStateFileIsAnErrorNamingIt) {
  std::filesystem::create_directories(dir_ / "broken");
  std::ofstream(dir_ / "broken" / "kindmps.json") << "{\"name\": \"broken\", \"mps\": ";
  auto loaded = LoadSavedConfig("broken");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find((dir_ / "broken" / "kindmps.json").string()), std::string::npos);
}

}  // namespace
}  // namespace kmps::cluster
