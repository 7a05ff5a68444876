// Fake NVIDIA hosts for tests: directory trees laid out like a real driver installation, with
// real ELF shared objects (built with the C compiler, right SONAMEs), an ld.so.cache made by
// `ldconfig -r`, and character devices made with mknod when the tests run as root.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace kmps::testing {

// A fresh directory under $TMPDIR (default /tmp), removed with its contents by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "kmps");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `argv` (no shell); ok when it exits 0, else kFailed with the command and its output.
Status RunCommand(const std::vector<std::string>& argv);

// Whether mknod of a character device works here (root with CAP_MKNOD). Tests that need device
// nodes GTEST_SKIP() with kNeedsMknodMessage otherwise.
bool CanMakeDevices();
inline constexpr const char* kNeedsMknodMessage =
    "fake /dev/nvidia* nodes need mknod (run the tests as root to cover device checks)";

// Copies a prebuilt ELF shared object whose DT_SONAME is `soname` to `dest` (mode 0755).
// Compiled once per soname per test process with `cc -shared -fPIC -Wl,-soname,...`.
Status BuildSharedObject(const std::string& dest, const std::string& soname);

struct FakeHostOptions {
  std::string driver_version = "580.159.04";
  // Files installed as the MPS binaries (e.g. the MPS emulator); empty: a tiny shell script.
  std::string mps_control_source;
  std::string mps_server_source;
  bool nvidia_smi = true;
  bool devices = true;     // /dev/nvidia0 (195,0), nvidiactl (195,255), nvidia-uvm (238,0),
                           // nvidia-uvm-tools (238,1) when CanMakeDevices()
  bool cdi = false;        // <root>/etc/cdi/nvidia.yaml
  bool ldconfig = true;    // run `ldconfig -r <root>` to write <root>/etc/ld.so.cache
  // H100 only: also list the CUDA compat and stubs directories in ld.so.conf.d (before the
  // driver's), so the cache and the conf dirs offer the traps first.
  bool traps_in_ld_path = false;
};

// Primitives on a tree; `inside` paths are absolute paths under the root.
class FakeHost {
 public:
  explicit FakeHost(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string Path(const std::string& inside) const { return root_ + inside; }

  Status MakeDirs(const std::string& inside) const;
  Status WriteFile(const std::string& inside, const std::string& content, int mode = 0644) const;
  Status Symlink(const std::string& inside, const std::string& target) const;
  Status Remove(const std::string& inside) const;
  // <dir>/<real_name> (ELF, SONAME `soname`) and the links <dir>/<soname> -> real_name and
  // <dir>/<stem>.so -> soname.
  Status AddLibrary(const std::string& dir, const std::string& soname, const std::string& real_name) const;
  // Installs `source` (empty: a tiny shell script that echoes its arguments) at `inside`, 0755.
  Status AddBinary(const std::string& inside, const std::string& source = "") const;
  Status AddCharDevice(const std::string& inside, int major, int minor) const;
  // The four NVIDIA nodes under /dev (no-op when !CanMakeDevices()).
  Status AddNvidiaDevices() const;
  Status RunLdconfig() const;

 private:
  std::string root_;
};

// The real H100 host of the reference notes: libraries in /usr/local/nvidia/lib64 known only
// through /etc/ld.so.conf.d/nvidia.conf and the cache; binaries in /usr/local/nvidia/bin and
// /usr/bin; CUDA 13.0 toolkit stubs and a forward-compat libcuda 580.95.05 on disk as traps;
// no libnvidia-gpucomp; no CDI.
Status H100Layout(const std::string& root, const FakeHostOptions& options = {});
// Debian's packaging: libraries (gpucomp included) in /usr/lib/x86_64-linux-gnu, binaries in
// /usr/bin, /etc/ld.so.conf.d/x86_64-linux-gnu.conf as Debian ships it.
Status DebianLayout(const std::string& root, const FakeHostOptions& options = {});
// Broken hosts, each a Debian layout with one defect:
// libcuda.so.1 -> libcuda.so.<version>, which was removed after ldconfig.
Status DanglingLinkLayout(const std::string& root, const FakeHostOptions& options = {});
// no nvidia-cuda-mps-server anywhere.
Status MissingServerLayout(const std::string& root, const FakeHostOptions& options = {});
// libcuda.so.<version> and nvidia-cuda-mps-server are empty directories: what Docker leaves of a
// bind-mount source that was missing.
Status LeftoverDirectoryLayout(const std::string& root, const FakeHostOptions& options = {});
// libnvidia-ml.so.<version> is a text file (libnvidia-ml.so.1 links to it).
Status NonElfLibraryLayout(const std::string& root, const FakeHostOptions& options = {});

}  // namespace kmps::testing
