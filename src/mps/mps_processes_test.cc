#include "mps/mps_processes.h"

#include <gtest/gtest.h>

namespace kmps::mps {
namespace {

TEST(FindMpsProcesses, ReadsTheRecordedH100NodeTable) {
  // GET /containers/{id}/top?ps_args=-o pid,ppid,user,args on the H100 node while a client ran.
  node::ProcessTable top;
  top.titles = {"PID", "PPID", "USER", "COMMAND"};
  top.processes = {{"1093", "1073", "root", "/bin/sleep 100000"},
                   {"1171", "1093", "root", "nvidia-cuda-mps-control -d"},
                   {"1243", "1073", "root", "/opt/vadd"},
                   {"1250", "1171", "root", "nvidia-cuda-mps-server"}};
  MpsProcesses p = FindMpsProcesses(top);
  ASSERT_TRUE(p.control.has_value());
  EXPECT_EQ(p.control->pid, 1171);
  ASSERT_EQ(p.servers.size(), 1u);
  EXPECT_EQ(p.servers[0].pid, 1250);
  EXPECT_EQ(p.servers[0].ppid, 1171);
}

TEST(FindMpsProcesses, ReadsDockerTopsDefaultAuxColumns) {
  node::ProcessTable top;
  top.titles = {"USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"};
  top.processes = {
      {"root", "1093", "0.0", "0.0", "2268", "1440", "?", "Ss", "14:09", "0:00", "/bin/sleep 100000"},
      {"root", "1171", "0.0", "0.0", "8533728", "2172", "?", "Ssl", "14:09", "0:00", "nvidia-cuda-mps-control -d"}};
  MpsProcesses p = FindMpsProcesses(top);
  ASSERT_TRUE(p.control.has_value());
  EXPECT_EQ(p.control->pid, 1171);
  EXPECT_EQ(p.control->ppid, 0);  // no PPID column
  EXPECT_TRUE(p.servers.empty());
}

TEST(FindMpsProcesses, IgnoresZombiesAndClientsAndFullPaths) {
  node::ProcessTable top;
  top.titles = {"PID", "PPID", "STAT", "COMMAND"};
  top.processes = {{"428", "1", "Z", "[nvidia-cuda-mps] <defunct>"},
                   {"430", "1", "Z", "nvidia-cuda-mps-control -d"},  // a dead daemon is no daemon
                   {"431", "1", "S", "nvidia-cuda-mps-control"},     // a client sending a command
                   {"444", "1", "Ssl", "/usr/bin/nvidia-cuda-mps-control -d"},
                   {"541", "444", "Sl", "/usr/bin/nvidia-cuda-mps-server"}};
  MpsProcesses p = FindMpsProcesses(top);
  ASSERT_TRUE(p.control.has_value());
  EXPECT_EQ(p.control->pid, 444);
  ASSERT_EQ(p.servers.size(), 1u);
  EXPECT_EQ(p.servers[0].pid, 541);
}

TEST(FindMpsProcesses, EmptyWithoutPidOrCommandColumns) {
  node::ProcessTable top;
  top.titles = {"USER", "TIME"};
  top.processes = {{"root", "0:00"}};
  MpsProcesses p = FindMpsProcesses(top);
  EXPECT_FALSE(p.control.has_value());
  EXPECT_TRUE(p.servers.empty());
}

}  // namespace
}  // namespace kmps::mps
