#include "cluster/state.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <tuple>

#include <nlohmann/json.hpp>

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
  // The state file of cluster `name`, as `up` writes it.
  std::filesystem::path Saved(const std::string& name) {
    config::ClusterConfig c = config::DefaultClusterConfig();
    c.name = name;
    EXPECT_TRUE(SaveState(c).ok());
    return dir_ / name / "kindmps.json";
  }
  static nlohmann::json Read(const std::filesystem::path& p) { return nlohmann::json::parse(std::ifstream(p)); }
  static void Write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }
  // The one line LoadSavedConfig fails with; it must be kInvalidArgument (exit 2).
  static std::string ErrorOf(const std::string& cluster) {
    auto loaded = LoadSavedConfig(cluster);
    EXPECT_FALSE(loaded.ok());
    if (loaded.ok()) return "";
    EXPECT_EQ(loaded.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(ExitCodeFor(loaded.status()), 2);
    return loaded.status().message();
  }
  std::filesystem::path dir_;
};

constexpr const char* kRunUp = "; run kindmps-api up again to rewrite it (or remove the file)";

TEST_F(StateTest, WhatUpSavedIsWhatStatusReads) {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "saved";
  c.shm_bytes = 2ull << 30;
  c.shm_size = "2g";
  c.mps.pipe_directory = "/run/mps";
  c.mps.default_active_thread_percentage = 25;
  c.workers = 1;
  c.gpu_nodes = {"worker"};
  ASSERT_TRUE(SaveState(c).ok());
  auto path = SaveKindConfig("saved", "kind: Cluster\n");
  ASSERT_TRUE(path.ok()) << path.status().message();
  EXPECT_EQ(*path, (dir_ / "saved" / "kind-config.yaml").string());
  EXPECT_EQ(*path, KindConfigPath("saved"));
  auto loaded = LoadSavedConfig("saved");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->shm_bytes, 2ull << 30);
  EXPECT_EQ(loaded->mps.pipe_directory, "/run/mps");
  EXPECT_EQ(loaded->mps.default_active_thread_percentage, 25);
  EXPECT_EQ(loaded->gpu_nodes, std::vector<std::string>{"worker"});
}

TEST_F(StateTest, ADaemonPerGpuAndItsSettingsAreSavedAndRead) {
  config::ClusterConfig c = config::DefaultClusterConfig();
  c.name = "pergpu";
  c.mps.daemons = config::MpsSettings::Daemons::kPerGpu;
  c.mps.per_gpu = {{"1", 50.0, "2G"}, {"GPU-ab", std::nullopt, ""}};
  ASSERT_TRUE(SaveState(c).ok());
  auto loaded = LoadSavedConfig("pergpu");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->mps.daemons, config::MpsSettings::Daemons::kPerGpu);
  EXPECT_EQ(loaded->mps.per_gpu, c.mps.per_gpu);
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

TEST_F(StateTest, TheFileSaysWhatItIs) {
  nlohmann::json j = Read(Saved("typed"));
  EXPECT_EQ(j.at("apiVersion"), "kindmps.dev/v1alpha1");
  EXPECT_EQ(j.at("kind"), "ClusterState");
  EXPECT_EQ(j.at("name"), "typed");
  EXPECT_EQ(j.at("mps").at("pipeDirectory"), "/tmp/nvidia-mps");
}

TEST_F(StateTest, AnotherOrNoVersionIsAnError) {
  auto path = Saved("old");
  const nlohmann::json saved = Read(path);
  const nlohmann::json none;  // the key left out, as kindmps-api wrote it before the state had a version
  for (const auto& [api, kind, why] : {
           std::tuple{none, none, "apiVersion is missing, expected \"kindmps.dev/v1alpha1\""},
           std::tuple{nlohmann::json("kindmps.dev/v1"), nlohmann::json("ClusterState"),
                      "apiVersion is \"kindmps.dev/v1\", expected \"kindmps.dev/v1alpha1\""},
           std::tuple{nlohmann::json("kindmps.dev/v1alpha1"), nlohmann::json("Config"),
                      "kind is \"Config\", expected \"ClusterState\""}}) {
    nlohmann::json j = saved;
    j.erase("apiVersion");
    j.erase("kind");
    if (!api.is_null()) j["apiVersion"] = api;
    if (!kind.is_null()) j["kind"] = kind;
    Write(path, j.dump(2));
    EXPECT_EQ(ErrorOf("old"), path.string() + ": " + why + " (another kindmps-api version wrote it)" + kRunUp);
  }
}

TEST_F(StateTest, UnknownMissingAndMistypedFieldsAreErrorsWithTheirPath) {
  auto path = Saved("strict");
  const nlohmann::json good = Read(path);
  auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    Write(path, j.dump(2));
    return ErrorOf("strict");
  };
  std::string file = path.string();
  EXPECT_EQ(with([](auto& j) { j["wrokers"] = 1; }), file + ": /wrokers: unknown field" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["mps"]["extra"] = true; }), file + ": /mps/extra: unknown field" + kRunUp);
  EXPECT_EQ(with([](auto& j) {
              j["mps"]["pinnedDeviceMemoryLimits"] = {{{"device", "0"}, {"limit", "2G"}, {"x", 1}}};
            }),
            file + ": /mps/pinnedDeviceMemoryLimits/0/x: unknown field" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j.erase("image"); }), file + ": /image: missing" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["mps"].erase("pipeDirectory"); }),
            file + ": /mps/pipeDirectory: missing" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["workers"] = "2"; }),
            file + ": /workers: type must be number, but is string" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["mps"]["startServer"] = 1; }),
            file + ": /mps/startServer: type must be boolean, but is number" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["gpuNodes"] = {"worker", 2}; }),
            file + ": /gpuNodes: type must be string, but is number" + kRunUp);
  // Numbers that nlohmann would convert: read, they would not be what the file says.
  EXPECT_EQ(with([](auto& j) { j["workers"] = 2.5; }), file + ": /workers: unexpected value 2.5" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["shmBytes"] = -1; }), file + ": /shmBytes: unexpected value -1" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["mps"] = "x"; }), file + ": /mps: expected an object, got string" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j["mps"]["pinnedDeviceMemoryLimits"] = {{{"device", "0"}}}; }),
            file + ": /mps/pinnedDeviceMemoryLimits/limit: missing" + kRunUp);
  EXPECT_EQ(with([](auto& j) { j = nlohmann::json::array(); }), file + ": expected a JSON object, got array" + kRunUp);
}

TEST_F(StateTest, InvalidJsonNamesLineAndColumn) {
  auto path = Saved("broken");
  Write(path, "{\n  \"name\": \"broken\",\n  \"mps\": ]\n}\n");
  std::string e = ErrorOf("broken");
  EXPECT_EQ(e.rfind(path.string() + ":3:10: invalid JSON: syntax error", 0), 0u) << e;
  EXPECT_NE(e.find(kRunUp), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST_F(StateTest, AStateFileOfAnotherClusterIsAnError) {
  auto path = Saved("one");
  std::filesystem::create_directories(dir_ / "two");
  std::filesystem::copy_file(path, dir_ / "two" / "kindmps.json");
  EXPECT_EQ(ErrorOf("two"), (dir_ / "two" / "kindmps.json").string() + ": holds cluster one, not two" + kRunUp);
}

// Whatever stands where the state file should be is one clear line, exit 2: never a crash, a hang
// (a FIFO) or the defaults in its place.
TEST_F(StateTest, WhatStandsWhereTheFileShouldBeIsNamed) {
  std::filesystem::create_directories(dir_ / "isdir" / "kindmps.json");
  std::filesystem::create_directories(dir_ / "dangling");
  std::filesystem::create_symlink(dir_ / "nowhere", dir_ / "dangling" / "kindmps.json");
  std::filesystem::create_directories(dir_ / "fifo");
  ASSERT_EQ(::mkfifo((dir_ / "fifo" / "kindmps.json").c_str(), 0600), 0);
  for (auto [cluster, why] : {std::pair{"isdir", "is a directory, not a file"},
                              std::pair{"dangling", "is a symbolic link to nothing"},
                              std::pair{"fifo", "is a FIFO, not a file"}}) {
    std::string file = (dir_ / cluster / "kindmps.json").string();
    EXPECT_EQ(ErrorOf(cluster), "state file " + file + ": " + why + kRunUp);
  }
}

// The name is checked before it becomes a path: nothing outside the state directory is read.
TEST_F(StateTest, AnInvalidNameIsRefusedBeforeAnyPath) {
  std::filesystem::create_directories(dir_ / "sub");
  for (const char* bad : {"..", "../sub", "-x", ".hidden", "UPPER", "a/b", "x\n"}) {
    auto loaded = LoadSavedConfig(bad);
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(loaded.status().message().rfind("cluster name \"", 0), 0u) << loaded.status().message();
  }
  EXPECT_FALSE(LoadSavedConfig(std::string(50, 'a')).ok());
  EXPECT_TRUE(LoadSavedConfig(std::string(49, 'a')).ok());
}

// What a config file may not hold, the state file may not either: it is read as strictly.
TEST_F(StateTest, ValuesAConfigCouldNotHoldAreErrors) {
  auto path = Saved("bounds");
  nlohmann::json good = Read(path);
  nlohmann::json j = good;
  j["mps"]["pinnedDeviceMemoryLimits"] = {{{"device", "0"}, {"limit", "99999999999999999999999G"}}};
  Write(path, j.dump(2));
  EXPECT_NE(ErrorOf("bounds").find("pinnedDeviceMemoryLimits: expected a size like 512M or 2G"), std::string::npos);
  j = good;
  j["shmBytes"] = 10'000'000'000'000'000'000ull;
  Write(path, j.dump(2));
  EXPECT_NE(ErrorOf("bounds").find("more than the 4398046511104 bytes (4T)"), std::string::npos);
}

// A number JSON can write but a double cannot hold (found by the fuzzer): one line, not a crash.
TEST_F(StateTest, ANumberTooLargeIsAnErrorNotACrash) {
  auto path = Saved("huge");
  std::string text = Read(path).dump();
  text.replace(text.find("\"workers\":0"), 11, "\"workers\":1e400");
  Write(path, text);
  EXPECT_NE(ErrorOf("huge").find(": invalid JSON: number overflow"), std::string::npos) << ErrorOf("huge");
}

TEST_F(StateTest, RemoveStateRemovesTheDirectory) {
  Saved("gone");
  ASSERT_TRUE(SaveKindConfig("gone", "kind: Cluster\n").ok());
  ASSERT_TRUE(RemoveState("gone").ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "gone"));
  EXPECT_TRUE(RemoveState("gone").ok());  // nothing there: nothing to do
  auto loaded = LoadSavedConfig("gone");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->mps.pipe_directory, "/tmp/nvidia-mps");
}

}  // namespace
}  // namespace kmps::cluster
