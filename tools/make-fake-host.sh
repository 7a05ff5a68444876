#!/bin/bash
# Builds a fake NVIDIA host tree laid out like the real H100 host (libraries under
# usr/local/nvidia/lib64 known through ld.so.conf.d and ld.so.cache, binaries in
# usr/local/nvidia/bin, device nodes in dev/), for the demo and the end-to-end tests.
#   tools/make-fake-host.sh ROOT MPS_EMU_DIR [--gpus N] [--mig MINOR]
# MPS_EMU_DIR holds the MPS emulator's static nvidia-cuda-mps-control and -server; they become the
# host's "driver binaries", so the generated kind config mounts them into the nodes.
# Device nodes need root (mknod); without it they are left out and inspect reports them missing.
# --gpus N (default 1): dev/nvidia0..N-1 and, as the NVIDIA kernel module lists its GPUs,
# proc/driver/nvidia/gpus/<bus id>/information (read with `inspect --proc-root ROOT`), with UUIDs
# that are the same on every run; etc/kindmps-fake-gpus lists them ("MINOR UUID" a line) for the
# MPS emulator (docs/emulators.md). --mig MINOR gives that GPU a MIG GPU instance in
# proc/driver/nvidia/capabilities/gpuMINOR/mig/gi1, the mark of MIG enabled that inspect reads.
set -euo pipefail
usage='usage: make-fake-host.sh ROOT MPS_EMU_DIR [--gpus N] [--mig MINOR]'
root=${1:?$usage}
emu=${2:?$usage}
shift 2
gpus=1
mig=
while [ $# -gt 0 ]; do
  case $1 in
    --gpus) gpus=${2:?$usage}; shift 2 ;;
    --mig) mig=${2:?$usage}; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
case $gpus in ''|*[!0-9]*) echo "make-fake-host.sh: --gpus wants a number from 1 to 64, not $gpus" >&2; exit 2 ;; esac
if [ "$gpus" -lt 1 ] || [ "$gpus" -gt 64 ]; then
  echo "make-fake-host.sh: --gpus wants a number from 1 to 64, not $gpus" >&2; exit 2
fi
if [ -n "$mig" ]; then
  case $mig in *[!0-9]*) echo "make-fake-host.sh: --mig wants a GPU minor, not $mig" >&2; exit 2 ;; esac
  if [ "$mig" -ge "$gpus" ]; then
    echo "make-fake-host.sh: --mig $mig: there are GPUs 0 to $((gpus - 1)) only" >&2; exit 2
  fi
fi
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
# The GPUs as the driver's procfs shows them (kernel-open/nvidia/nv-procfs.c): one directory a
# GPU, named by its PCI bus id. UUID: the md5 of a fixed text, in nvidia-smi's shape.
fake_uuid() {
  local h
  h=$(printf 'kindmps-fake-gpu-%s' "$1" | md5sum | cut -c1-32)
  echo "GPU-${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}
proc=$root/proc/driver/nvidia
rm -rf "$proc/gpus" "$proc/capabilities"
mkdir -p "$proc/gpus" "$proc/capabilities/mig"
printf 'DeviceFileMinor: 1\nDeviceFileMode: 256\nDeviceFileModify: 1\n' > "$proc/capabilities/mig/config"
printf 'DeviceFileMinor: 2\nDeviceFileMode: 292\nDeviceFileModify: 1\n' > "$proc/capabilities/mig/monitor"
: > "$root/etc/kindmps-fake-gpus"
for ((i = 0; i < gpus; i++)); do
  uuid=$(fake_uuid "$i")
  bus=$(printf '0000:%02x:00.0' $(((0x19 + 0x11 * i) % 256)))
  mkdir -p "$proc/gpus/$bus" "$proc/capabilities/gpu$i/mig"
  printf 'Model: \t\t NVIDIA H200 (kindmps fake)\nIRQ:   \t\t %d\nGPU UUID: \t %s\nVideo BIOS: \t 96.00.a5.00.01\nBus Type: \t PCIe\nDMA Size: \t 52 bits\nDMA Mask: \t 0xfffffffffffff\nBus Location: \t %s\nDevice Minor: \t %d\nGPU Firmware: \t %s\nGPU Excluded:\t No\n' \
    $((455 + i)) "$uuid" "$bus" "$i" "$ver" > "$proc/gpus/$bus/information"
  echo "$i $uuid" >> "$root/etc/kindmps-fake-gpus"
done
if [ -n "$mig" ]; then
  # A GPU instance and its compute instance, as after nvidia-smi mig -cgi ... -C.
  gi=$proc/capabilities/gpu$mig/mig/gi1
  mkdir -p "$gi/ci0"
  printf 'DeviceFileMinor: %d\nDeviceFileMode: 292\nDeviceFileModify: 1\n' $((3 + mig * 105 + 9)) > "$gi/access"
  printf 'DeviceFileMinor: %d\nDeviceFileMode: 292\nDeviceFileModify: 1\n' $((3 + mig * 105 + 10)) > "$gi/ci0/access"
fi
if [ "$(id -u)" = 0 ]; then
  mk() { [ -c "$root/dev/$1" ] || mknod -m 666 "$root/dev/$1" c "$2" "$3"; }
  for f in "$root"/dev/nvidia[0-9]*; do  # GPUs of an earlier, larger run
    [ -e "$f" ] && [ "${f##*/nvidia}" -ge "$gpus" ] && rm -f "$f"
  done
  for ((i = 0; i < gpus; i++)); do mk "nvidia$i" 195 "$i"; done
  mk nvidiactl 195 255; mk nvidia-uvm 238 0; mk nvidia-uvm-tools 238 1
fi
echo "$root"
