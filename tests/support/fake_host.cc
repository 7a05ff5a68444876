#include "support/fake_host.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include <fmt/core.h>
#include <fmt/format.h>

#include "support/subprocess.h"

namespace kmps::testing {
namespace fs = std::filesystem;
namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string MakeTempDir(const std::string& tag) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = fmt::format("{}/{}-{}-XXXXXX", (tmp && *tmp) ? tmp : "/tmp", tag, getpid());
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp %s: %s\n", templ.c_str(), std::strerror(errno));
    std::abort();
  }
  return buf.data();
}

// The process-wide directory of compiled shared objects, one per soname.
struct ElfCache {
  std::mutex mu;
  std::unique_ptr<TempDir> dir;
  std::map<std::string, std::string> by_soname;
};
ElfCache& Elves() {
  static ElfCache cache;
  return cache;
}

constexpr const char* kScript = "#!/bin/sh\necho \"fake $(basename \"$0\") $*\"\n";

std::string Stem(const std::string& soname) {  // libcuda.so.1 -> libcuda.so
  size_t so = soname.find(".so");
  return so == std::string::npos ? soname : soname.substr(0, so + 3);
}

}  // namespace

TempDir::TempDir(const std::string& tag) : path_(MakeTempDir(tag)) {}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Status RunCommand(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) cmd += fmt::format("{}{}", cmd.empty() ? "" : " ", ShellQuote(a));
  ProcResult r = RunProcess(argv, "", {}, std::chrono::minutes(5));
  if (r.exit_code != 0) {
    return Failed(fmt::format("{} failed ({}): {}", cmd, r.timed_out ? "timed out" : fmt::format("exit {}", r.exit_code),
                              r.out + r.err));
  }
  return Status::Ok();
}

bool CanMakeDevices() {
  static const bool can = [] {
    if (geteuid() != 0) return false;
    TempDir dir("kmps-mknod");
    std::string node = dir.path() + "/probe";
    return mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0;
  }();
  return can;
}

Status BuildSharedObject(const std::string& dest, const std::string& soname) {
  ElfCache& cache = Elves();
  std::string built;
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    if (!cache.dir) cache.dir = std::make_unique<TempDir>("kmps-elf");
    auto it = cache.by_soname.find(soname);
    if (it == cache.by_soname.end()) {
      std::string src = cache.dir->path() + "/lib.c";
      std::ofstream(src) << "int kmps_fake_symbol(void) { return 42; }\n";
      std::string out = cache.dir->path() + "/" + soname;
      KMPS_RETURN_IF_ERROR(
          RunCommand({"cc", "-shared", "-fPIC", "-Wl,-soname," + soname, "-o", out, src}));
      it = cache.by_soname.emplace(soname, out).first;
    }
    built = it->second;
  }
  std::error_code ec;
  fs::copy_file(built, dest, fs::copy_options::overwrite_existing, ec);
  if (ec) return Failed(fmt::format("copy {} -> {}: {}", built, dest, ec.message()));
  fs::permissions(dest, fs::perms(0755), ec);
  return Status::Ok();
}

Status FakeHost::MakeDirs(const std::string& inside) const {
  std::error_code ec;
  fs::create_directories(Path(inside), ec);
  if (ec) return Failed(fmt::format("mkdir {}: {}", Path(inside), ec.message()));
  return Status::Ok();
}

Status FakeHost::WriteFile(const std::string& inside, const std::string& content, int mode) const {
  KMPS_RETURN_IF_ERROR(MakeDirs(fs::path(inside).parent_path().string()));
  std::string path = Path(inside);
  std::error_code ec;
  fs::remove(path, ec);
  {
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out) return Failed(fmt::format("write {}", path));
  }
  if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return Failed(fmt::format("chmod {}: {}", path, std::strerror(errno)));
  }
  return Status::Ok();
}

Status FakeHost::Symlink(const std::string& inside, const std::string& target) const {
  KMPS_RETURN_IF_ERROR(MakeDirs(fs::path(inside).parent_path().string()));
  std::error_code ec;
  fs::remove(Path(inside), ec);
  if (symlink(target.c_str(), Path(inside).c_str()) != 0) {
    return Failed(fmt::format("symlink {} -> {}: {}", Path(inside), target, std::strerror(errno)));
  }
  return Status::Ok();
}

Status FakeHost::Remove(const std::string& inside) const {
  std::error_code ec;
  fs::remove(Path(inside), ec);
  if (ec) return Failed(fmt::format("remove {}: {}", Path(inside), ec.message()));
  return Status::Ok();
}

Status FakeHost::AddLibrary(const std::string& dir, const std::string& soname,
                            const std::string& real_name) const {
  KMPS_RETURN_IF_ERROR(MakeDirs(dir));
  KMPS_RETURN_IF_ERROR(BuildSharedObject(Path(dir + "/" + real_name), soname));
  if (real_name != soname) KMPS_RETURN_IF_ERROR(Symlink(dir + "/" + soname, real_name));
  if (Stem(soname) != soname) KMPS_RETURN_IF_ERROR(Symlink(dir + "/" + Stem(soname), soname));
  return Status::Ok();
}

Status FakeHost::AddBinary(const std::string& inside, const std::string& source) const {
  if (source.empty()) return WriteFile(inside, kScript, 0755);
  KMPS_RETURN_IF_ERROR(MakeDirs(fs::path(inside).parent_path().string()));
  std::error_code ec;
  fs::copy_file(source, Path(inside), fs::copy_options::overwrite_existing, ec);
  if (ec) return Failed(fmt::format("copy {} -> {}: {}", source, Path(inside), ec.message()));
  fs::permissions(Path(inside), fs::perms(0755), ec);
  return Status::Ok();
}

Status FakeHost::AddCharDevice(const std::string& inside, int major, int minor) const {
  KMPS_RETURN_IF_ERROR(MakeDirs(fs::path(inside).parent_path().string()));
  if (mknod(Path(inside).c_str(), S_IFCHR | 0666,
            makedev(static_cast<unsigned>(major), static_cast<unsigned>(minor))) != 0) {
    return Failed(fmt::format("mknod {}: {}", Path(inside), std::strerror(errno)));
  }
  return Status::Ok();
}

Status FakeHost::AddNvidiaDevices() const {
  if (!CanMakeDevices()) return Status::Ok();
  KMPS_RETURN_IF_ERROR(AddCharDevice("/dev/nvidia0", 195, 0));
  KMPS_RETURN_IF_ERROR(AddCharDevice("/dev/nvidiactl", 195, 255));
  KMPS_RETURN_IF_ERROR(AddCharDevice("/dev/nvidia-uvm", 238, 0));
  KMPS_RETURN_IF_ERROR(AddCharDevice("/dev/nvidia-uvm-tools", 238, 1));
  return Status::Ok();
}

Status FakeHost::RunLdconfig() const {
  KMPS_RETURN_IF_ERROR(MakeDirs("/etc"));
  const char* ldconfig = access("/sbin/ldconfig", X_OK) == 0 ? "/sbin/ldconfig" : "ldconfig";
  return RunCommand({ldconfig, "-r", root_});
}

namespace {

Status InstallBinaries(const FakeHost& h, const std::string& dir, const FakeHostOptions& o) {
  KMPS_RETURN_IF_ERROR(h.AddBinary(dir + "/nvidia-cuda-mps-control", o.mps_control_source));
  KMPS_RETURN_IF_ERROR(h.AddBinary(dir + "/nvidia-cuda-mps-server", o.mps_server_source));
  if (o.nvidia_smi) KMPS_RETURN_IF_ERROR(h.AddBinary(dir + "/nvidia-smi"));
  return Status::Ok();
}

Status Finish(const FakeHost& h, const FakeHostOptions& o) {
  if (o.devices) KMPS_RETURN_IF_ERROR(h.AddNvidiaDevices());
  if (o.cdi) {
    KMPS_RETURN_IF_ERROR(h.WriteFile("/etc/cdi/nvidia.yaml",
                                     "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: []\n"));
  }
  if (o.ldconfig) KMPS_RETURN_IF_ERROR(h.RunLdconfig());
  return Status::Ok();
}

}  // namespace

Status H100Layout(const std::string& root, const FakeHostOptions& o) {
  FakeHost h(root);
  const std::string v = o.driver_version;
  const std::string lib = "/usr/local/nvidia/lib64";
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libcuda.so.1", "libcuda.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-ml.so.1", "libnvidia-ml.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-ptxjitcompiler.so.1", "libnvidia-ptxjitcompiler.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-nvvm.so.4", "libnvidia-nvvm.so." + v));
  KMPS_RETURN_IF_ERROR(InstallBinaries(h, "/usr/local/nvidia/bin", o));
  KMPS_RETURN_IF_ERROR(InstallBinaries(h, "/usr/bin", o));
  // The traps: link-time stubs (whose SONAME is the driver's) and a forward-compat driver.
  const std::string stubs = "/usr/local/cuda-13.0/targets/x86_64-linux/lib/stubs";
  KMPS_RETURN_IF_ERROR(h.MakeDirs(stubs));
  KMPS_RETURN_IF_ERROR(BuildSharedObject(h.Path(stubs + "/libcuda.so"), "libcuda.so.1"));
  KMPS_RETURN_IF_ERROR(BuildSharedObject(h.Path(stubs + "/libnvidia-ml.so"), "libnvidia-ml.so.1"));
  KMPS_RETURN_IF_ERROR(h.AddLibrary("/usr/local/cuda-13.0/compat", "libcuda.so.1", "libcuda.so.580.95.05"));
  KMPS_RETURN_IF_ERROR(h.WriteFile("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n"));
  KMPS_RETURN_IF_ERROR(h.WriteFile("/etc/ld.so.conf.d/nvidia.conf", lib + "\n"));
  if (o.traps_in_ld_path) {
    KMPS_RETURN_IF_ERROR(h.WriteFile("/etc/ld.so.conf.d/000_cuda.conf",
                                     "# CUDA toolkit\n/usr/local/cuda-13.0/compat\n" + stubs + "\n"));
  }
  return Finish(h, o);
}

Status DebianLayout(const std::string& root, const FakeHostOptions& o) {
  FakeHost h(root);
  const std::string v = o.driver_version;
  const std::string lib = "/usr/lib/x86_64-linux-gnu";
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libcuda.so.1", "libcuda.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-ml.so.1", "libnvidia-ml.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-ptxjitcompiler.so.1", "libnvidia-ptxjitcompiler.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-gpucomp.so.1", "libnvidia-gpucomp.so." + v));
  KMPS_RETURN_IF_ERROR(h.AddLibrary(lib, "libnvidia-nvvm.so.4", "libnvidia-nvvm.so." + v));
  KMPS_RETURN_IF_ERROR(InstallBinaries(h, "/usr/bin", o));
  KMPS_RETURN_IF_ERROR(h.WriteFile("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n"));
  KMPS_RETURN_IF_ERROR(h.WriteFile("/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
                                   "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n"
                                   "/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n"));
  return Finish(h, o);
}

Status DanglingLinkLayout(const std::string& root, const FakeHostOptions& o) {
  KMPS_RETURN_IF_ERROR(DebianLayout(root, o));
  return FakeHost(root).Remove("/usr/lib/x86_64-linux-gnu/libcuda.so." + o.driver_version);
}

Status MissingServerLayout(const std::string& root, const FakeHostOptions& o) {
  KMPS_RETURN_IF_ERROR(DebianLayout(root, o));
  return FakeHost(root).Remove("/usr/bin/nvidia-cuda-mps-server");
}

Status LeftoverDirectoryLayout(const std::string& root, const FakeHostOptions& o) {
  KMPS_RETURN_IF_ERROR(DebianLayout(root, o));
  FakeHost h(root);
  for (const std::string& file : {"/usr/lib/x86_64-linux-gnu/libcuda.so." + o.driver_version,
                                 std::string("/usr/bin/nvidia-cuda-mps-server")}) {
    KMPS_RETURN_IF_ERROR(h.Remove(file));
    KMPS_RETURN_IF_ERROR(h.MakeDirs(file));
  }
  return Status::Ok();
}

Status NonElfLibraryLayout(const std::string& root, const FakeHostOptions& o) {
  KMPS_RETURN_IF_ERROR(DebianLayout(root, o));
  return FakeHost(root).WriteFile("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so." + o.driver_version,
                                  "INPUT(-lnvidia-ml)\n", 0755);
}

}  // namespace kmps::testing
