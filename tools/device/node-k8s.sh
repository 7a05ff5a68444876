#!/bin/sh
# Runs inside a stand-in kind node (tools/device/gpu-pods.sh): turns it into a kind-style
# Kubernetes node for static Pods. Starts containerd 1.7 (CRI, CDI on, native snapshotter, a
# no-op CNI: the Pods need no network), imports the images it is given, starts
# kindmps-device-plugin and kubelet in standalone mode (no API server: Pods are the manifests in
# /etc/kubernetes/manifests), labelled as `up` labels GPU nodes. Writes /run/kmps-k8s.ready once
# kubelet answers /healthz and the device plugin's socket is there; logs in /var/log/kmps.
#   sh node-k8s.sh KIT IMAGES_DIR      (KIT: engine/{bin,lib}, k8s/bin; IMAGES_DIR: *.tar to import)
set -eu
K=${1:?kit dir}
IMAGES=${2:?images dir}
export PATH="$K/engine/bin:$K/k8s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export LD_LIBRARY_PATH="$K/engine/lib"
node=$(hostname)
L=/var/log/kmps
mkdir -p "$L" /etc/containerd /etc/kubernetes/manifests /var/lib/kubelet /opt/cni/bin /etc/cni/net.d /run/containerd
rm -f /run/kmps-k8s.ready

# cgroup v2 with a private namespace (the GPU machine): the namespace's root cgroup holds the
# node's processes, so no child of it may get domain controllers ("cannot enter cgroupv2
# /sys/fs/cgroup/k8s.io with domain controllers -- it is in an invalid state"). As kind's
# entrypoint does: every process into a leaf, then the controllers enabled for the children.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/kmps-init
  for p in $(cat /sys/fs/cgroup/cgroup.procs); do echo "$p" >/sys/fs/cgroup/kmps-init/cgroup.procs 2>/dev/null || true; done
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || echo "cgroup: cannot enable $c"; done
  echo "cgroup v2: $(cat /sys/fs/cgroup/cgroup.subtree_control) for the children; node processes in /kmps-init"
fi

cat >/etc/containerd/config.toml <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  restrict_oom_score_adj = true
  tolerate_missing_hugepages_controller = true
  enable_cdi = true
  cdi_spec_dirs = ["/etc/cdi", "/var/run/cdi"]
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "native"
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  BinaryName = "$K/engine/bin/runc"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/opt/cni/bin"
  conf_dir = "/etc/cni/net.d"
EOF
# A CNI plugin that configures nothing in the Pod's network namespace (the Pods here talk only
# to MPS, through the pipe directory) and reports an eth0 with an address of its own, which
# containerd wants to record; also answers as `loopback`, which containerd runs for lo.
cat >/opt/cni/bin/kmps-noop <<'EOF'
#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
  ADD) n=$(( $(cat /run/kmps-cni-n 2>/dev/null || echo 1) + 1 )); echo $n >/run/kmps-cni-n
       printf '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"%s"}],"ips":[{"address":"10.254.%d.%d/16","interface":0}],"dns":{}}\n' \
         "$CNI_NETNS" $((n / 250)) $((n % 250 + 2)) ;;
  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' ;;
esac
exit 0
EOF
chmod +x /opt/cni/bin/kmps-noop; ln -sf kmps-noop /opt/cni/bin/loopback
echo '{"cniVersion":"1.0.0","name":"kmps","plugins":[{"type":"kmps-noop"}]}' >/etc/cni/net.d/10-kmps.conflist

containerd --config /etc/containerd/config.toml >"$L/containerd.log" 2>&1 &
i=0; until ctr version >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 100 ] || { echo "containerd did not start"; tail -5 "$L/containerd.log"; exit 1; }; sleep 0.2; done
for t in "$IMAGES"/*.tar; do ctr -n k8s.io images import "$t" >>"$L/images.log" 2>&1; done
ctr -n k8s.io images tag docker.io/kmps-gpu/pause:pods registry.k8s.io/pause:3.10.1 >>"$L/images.log" 2>&1 || true

# crictl for `docker exec` and kindmps-api status (which names the Pods of MPS clients with it).
ln -sf "$K/k8s/bin/crictl" /usr/local/bin/crictl
echo 'runtime-endpoint: unix:///run/containerd/containerd.sock' >/etc/crictl.yaml

cat >/var/lib/kubelet/config.yaml <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: /etc/kubernetes/manifests
fileCheckFrequency: 1s
syncFrequency: 5s
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
localStorageCapacityIsolation: false
readOnlyPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
kubelet --config /var/lib/kubelet/config.yaml --hostname-override "$node" \
  --node-labels kindmps.dev/mps=ready >"$L/kubelet.log" 2>&1 &
# The plugin after kubelet's device manager is up: it empties device-plugins/ when it starts.
i=0; until [ -S /var/lib/kubelet/device-plugins/kubelet.sock ]; do i=$((i + 1)); [ $i -lt 150 ] || { echo "no kubelet.sock"; tail -20 "$L/kubelet.log"; exit 1; }; sleep 0.2; done
kindmps-device-plugin >"$L/device-plugin.log" 2>&1 &

# Ready: kubelet healthy and the plugin registered (its resource in kubelet's checkpoint; after
# 30 s, its socket alone will do).
i=0
while :; do
  if wget -q -O - http://127.0.0.1:10248/healthz 2>/dev/null | grep -q ok && [ -S /var/lib/kubelet/device-plugins/kindmps.sock ]; then
    grep -q 'kindmps' /var/lib/kubelet/device-plugins/kubelet_internal_checkpoint 2>/dev/null && break
    [ $i -lt 150 ] || { echo "the device plugin is not in kubelet's checkpoint; going on"; break; }
  fi
  i=$((i + 1)); [ $i -lt 300 ] || { echo "kubelet not ready"; tail -20 "$L/kubelet.log"; exit 1; }; sleep 0.2
done
date +%s >/run/kmps-k8s.ready
echo "node $node: containerd, kindmps-device-plugin and kubelet ready"
