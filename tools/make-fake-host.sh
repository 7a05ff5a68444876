#!/bin/bash
# Builds a fake NVIDIA host tree laid out like the real H100 host (libraries under
# usr/local/nvidia/lib64 known through ld.so.conf.d and ld.so.cache, binaries in
# usr/local/nvidia/bin, device nodes in dev/), for the demo and the end-to-end tests.
#   tools/make-fake-host.sh ROOT MPS_EMU_DIR
# MPS_EMU_DIR holds the MPS emulator's static nvidia-cuda-mps-control and -server; they become the
# host's "driver binaries", so the generated kind config mounts them into the nodes.
# Device nodes need root (mknod); without it they are left out and inspect reports them missing.
set -euo pipefail
root=${1:?usage: make-fake-host.sh ROOT MPS_EMU_DIR}
emu=${2:?usage: make-fake-host.sh ROOT MPS_EMU_DIR}
ver=580.159.04
mkdir -p "$root"/usr/local/nvidia/lib64 "$root"/usr/local/nvidia/bin "$root"/etc/ld.so.conf.d "$root"/dev "$root"/tmp
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
echo 'int kmps_fake_driver_symbol(void) { return 0; }' > "$src/lib.c"
for lib in libcuda.so.1 libnvidia-ml.so.1 libnvidia-ptxjitcompiler.so.1 libnvidia-nvvm.so.4; do
  base=${lib%.so.*}
  real="$root/usr/local/nvidia/lib64/$base.so.$ver"
  cc -shared -fPIC -Wl,-soname,"$lib" -o "$real" "$src/lib.c"
  ln -sf "$base.so.$ver" "$root/usr/local/nvidia/lib64/$lib"
done
echo /usr/local/nvidia/lib64 > "$root/etc/ld.so.conf.d/000_nvidia.conf"
echo 'include /etc/ld.so.conf.d/*.conf' > "$root/etc/ld.so.conf"
ldconfig -r "$root" 2>/dev/null || ldconfig -r "$root"
for b in nvidia-cuda-mps-control nvidia-cuda-mps-server; do
  install -m 0755 "$emu/$b" "$root/usr/local/nvidia/bin/$b"
done
if [ "$(id -u)" = 0 ]; then
  mk() { [ -c "$root/dev/$1" ] || mknod -m 666 "$root/dev/$1" c "$2" "$3"; }
  mk nvidia0 195 0; mk nvidiactl 195 255; mk nvidia-uvm 238 0; mk nvidia-uvm-tools 238 1
fi
echo "$root"
