// kindmps-device-plugin: the kubelet device plugin of a kindmps node. It advertises the extended
// resource kindmps.dev/mps (one device per MPS client slot) while the CDI spec that
// `kindmps-api up` writes into the node exists, and answers Allocate with that spec's CDI
// device, so that containerd gives the container everything MPS needs (the pipe directory, the
// GPU device nodes, the driver libraries, CUDA_MPS_PIPE_DIRECTORY) without privileged mode or
// hostPath volumes. A node without the spec (no GPU, or MPS not set up yet) advertises its
// devices as unhealthy, so no Pod that asks for MPS is scheduled there.
//
// With a daemon per GPU (mps.daemons perGpu) the spec has a device per GPU, <hostname>-gpu<N>:
// kindmps.dev/mps then has `count` devices per GPU (gpu<N>-mps-<i>), each answered with its GPU's
// CDI device, and the plugin also registers kindmps.dev/mps-gpu<N> per GPU for Pods that ask for
// one GPU (kindmps-api pod --gpu N --access cdi).
//
// kubelet deletes plugin sockets when it restarts: the plugin then exits, and systemd starts it
// again (Restart=always), which registers it anew.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

var (
	resource = flag.String("resource", "kindmps.dev/mps", "the extended resource advertised (with -gpu<N> per GPU)")
	count    = flag.Int("count", 48, "devices advertised per GPU (MPS serves up to 48 clients per GPU on Volta and later)")
	spec     = flag.String("spec", "/var/run/cdi/kindmps.json", "the CDI spec kindmps-api up writes; devices are healthy while it exists")
	device   = flag.String("cdi-device", "", "the CDI device Allocate names (default kindmps.dev/mps=<hostname>)")
	sockName = flag.String("socket", "kindmps.sock", "the plugin's socket under "+pluginapi.DevicePluginPath)
	poll     = flag.Duration("poll", 2*time.Second, "how often the spec and the sockets are checked")
)

// specState is what the plugin reads of the CDI spec: whether it is there, and the GPUs it has a
// device of their own for (<device>-gpu<N>, sorted; none with one daemon for the node).
type specState struct {
	present bool
	gpus    []int
}

// parseSpec reads the per-GPU devices of a CDI spec whose node device is named `node`.
func parseSpec(data []byte, node string) (specState, error) {
	var doc struct {
		Devices []struct {
			Name string `json:"name"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return specState{}, err
	}
	st := specState{present: true}
	for _, d := range doc.Devices {
		if rest, ok := strings.CutPrefix(d.Name, node+"-gpu"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 && strconv.Itoa(n) == rest {
				st.gpus = append(st.gpus, n)
			}
		}
	}
	sort.Ints(st.gpus)
	return st, nil
}

func readSpec(node string) specState {
	data, err := os.ReadFile(*spec)
	if err != nil {
		return specState{}
	}
	st, err := parseSpec(data, node)
	if err != nil {
		log.Printf("kindmps-device-plugin: %s: %v (devices unhealthy until it parses)", *spec, err)
		return specState{}
	}
	return st
}

func (st specState) has(gpu int) bool {
	for _, g := range st.gpus {
		if g == gpu {
			return true
		}
	}
	return false
}

func health(ok bool) string {
	if ok {
		return pluginapi.Healthy
	}
	return pluginapi.Unhealthy
}

// One registered resource: its devices for a spec state, and the CDI device of a device ID.
type resourceKind interface {
	devices(st specState) []*pluginapi.Device
	cdiDevice(st specState, id string) (string, error)
}

// nodeResource is kindmps.dev/mps: `count` devices for the node's daemon, or `count` per GPU.
type nodeResource struct{ cdi string }

func (r nodeResource) devices(st specState) []*pluginapi.Device {
	var devs []*pluginapi.Device
	if len(st.gpus) == 0 {
		for i := 0; i < *count; i++ {
			devs = append(devs, &pluginapi.Device{ID: fmt.Sprintf("mps-%d", i), Health: health(st.present)})
		}
	}
	for _, g := range st.gpus {
		for i := 0; i < *count; i++ {
			devs = append(devs, &pluginapi.Device{ID: fmt.Sprintf("gpu%d-mps-%d", g, i), Health: pluginapi.Healthy})
		}
	}
	return devs
}

// deviceGPU is the GPU of a device ID gpu<N>-mps-<i>; false for mps-<i>.
func deviceGPU(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "gpu")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, "-mps-")
	g, err := strconv.Atoi(n)
	return g, ok && err == nil
}

// gpuCDIDevice is GPU g's CDI device (<node device>-gpu<g>), while the spec has it.
func gpuCDIDevice(cdi string, st specState, g int) (string, error) {
	if !st.has(g) {
		return "", fmt.Errorf("%s has no device for GPU %d: run kindmps-api up", *spec, g)
	}
	return fmt.Sprintf("%s-gpu%d", cdi, g), nil
}

func (r nodeResource) cdiDevice(st specState, id string) (string, error) {
	g, perGPU := deviceGPU(id)
	if !perGPU {
		return r.cdi, nil
	}
	return gpuCDIDevice(r.cdi, st, g)
}

// gpuResource is kindmps.dev/mps-gpu<N>: `count` devices of one GPU's daemon.
type gpuResource struct {
	cdi string
	gpu int
}

func (r gpuResource) devices(st specState) []*pluginapi.Device {
	devs := make([]*pluginapi.Device, *count)
	for i := range devs {
		devs[i] = &pluginapi.Device{ID: fmt.Sprintf("mps-%d", i), Health: health(st.has(r.gpu))}
	}
	return devs
}

func (r gpuResource) cdiDevice(st specState, _ string) (string, error) {
	return gpuCDIDevice(r.cdi, st, r.gpu)
}

// allocate answers each container with one CDI device: the GPU of its first device (the
// preferred allocation keeps a container's devices on one GPU; devices of two GPUs are refused,
// as the container would get two pipe directories).
func allocate(kind resourceKind, st specState, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	if !st.present {
		return nil, fmt.Errorf("%s is missing: run kindmps-api up", *spec)
	}
	resp := &pluginapi.AllocateResponse{}
	for _, c := range req.ContainerRequests {
		name := ""
		for _, id := range c.DevicesIds {
			n, err := kind.cdiDevice(st, id)
			if err != nil {
				return nil, err
			}
			if name != "" && n != name {
				return nil, fmt.Errorf("devices %v are of several GPUs' MPS daemons: ask for one device", c.DevicesIds)
			}
			name = n
		}
		if name == "" {
			return nil, fmt.Errorf("a container asked for no device")
		}
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerAllocateResponse{
			CdiDevices: []*pluginapi.CDIDevice{{Name: name}},
		})
	}
	return resp, nil
}

// prefer keeps a container's devices on one GPU: the must-include ones', else the one with the
// most free (the lowest minor of equals), which fits the request if any GPU does (if none does,
// kubelet adds others, and Allocate refuses the mix in one line).
func prefer(c *pluginapi.ContainerPreferredAllocationRequest) []string {
	group := func(id string) int {
		if g, ok := deviceGPU(id); ok {
			return g
		}
		return -1 // mps-<i>: one daemon for the node
	}
	byGroup := map[int][]string{}
	var groups []int
	for _, id := range c.AvailableDeviceIDs {
		g := group(id)
		if _, seen := byGroup[g]; !seen {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], id)
	}
	sort.Ints(groups)
	chosen, best := -1, -1
	if len(c.MustIncludeDeviceIDs) > 0 {
		chosen = group(c.MustIncludeDeviceIDs[0])
	} else {
		for _, g := range groups {
			if len(byGroup[g]) > best {
				chosen, best = g, len(byGroup[g])
			}
		}
	}
	out := append([]string{}, c.MustIncludeDeviceIDs...)
	seen := map[string]bool{}
	for _, id := range out {
		seen[id] = true
	}
	ids := byGroup[chosen]
	sort.Strings(ids)
	for _, id := range ids {
		if len(out) >= int(c.AllocationSize) {
			break
		}
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}

type plugin struct {
	pluginapi.UnimplementedDevicePluginServer
	resource, socket string
	kind             resourceKind
	state            func() specState
	updates          chan specState // the spec state whenever it changes
	srv              *grpc.Server   // listen's, replaced only by listen (register's goroutine)
}

func (p *plugin) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	return &pluginapi.DevicePluginOptions{GetPreferredAllocationAvailable: true}, nil
}

func (p *plugin) ListAndWatch(_ *pluginapi.Empty, s pluginapi.DevicePlugin_ListAndWatchServer) error {
	select { // a state told before this stream began is older than the spec read now
	case <-p.updates:
	default:
	}
	st := p.state()
	for {
		if err := s.Send(&pluginapi.ListAndWatchResponse{Devices: p.kind.devices(st)}); err != nil {
			return err
		}
		select {
		case st = <-p.updates:
		case <-s.Context().Done():
			return nil
		}
	}
}

func (p *plugin) Allocate(_ context.Context, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	return allocate(p.kind, p.state(), req)
}

func (p *plugin) GetPreferredAllocation(_ context.Context, req *pluginapi.PreferredAllocationRequest) (*pluginapi.PreferredAllocationResponse, error) {
	resp := &pluginapi.PreferredAllocationResponse{}
	for _, c := range req.ContainerRequests {
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerPreferredAllocationResponse{DeviceIDs: prefer(c)})
	}
	return resp, nil
}

func (p *plugin) PreStartContainer(context.Context, *pluginapi.PreStartContainerRequest) (*pluginapi.PreStartContainerResponse, error) {
	return &pluginapi.PreStartContainerResponse{}, nil
}

// listen serves the plugin on its socket (made afresh).
func (p *plugin) listen() error {
	sock := filepath.Join(pluginapi.DevicePluginPath, p.socket)
	if p.srv != nil {
		p.srv.Stop()
	}
	_ = os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	p.srv = grpc.NewServer()
	pluginapi.RegisterDevicePluginServer(p.srv, p)
	go func(srv *grpc.Server) { _ = srv.Serve(l) }(p.srv)
	return nil
}

// register registers the listening plugin with kubelet, retrying while kubelet is not up yet.
// kubelet empties its plugin directory when it starts: a socket it removed before it took the
// registration is made again, or every retry would fail on it.
func (p *plugin) register() error {
	sock := filepath.Join(pluginapi.DevicePluginPath, p.socket)
	deadline := time.Now().Add(5 * time.Minute)
	logged := false
	for {
		if _, err := os.Stat(sock); err != nil {
			if err := p.listen(); err != nil {
				return err
			}
		}
		conn, err := grpc.NewClient("unix://"+pluginapi.KubeletSocket, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err = pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
				Version: pluginapi.Version, Endpoint: p.socket, ResourceName: p.resource,
				Options: &pluginapi.DevicePluginOptions{GetPreferredAllocationAvailable: true},
			})
			cancel()
			conn.Close()
		}
		if err == nil {
			log.Printf("kindmps-device-plugin: %s registered (socket %s)", p.resource, p.socket)
			return nil
		}
		if !logged {
			log.Printf("kindmps-device-plugin: %s: registering with kubelet: %v (retrying)", p.resource, err)
			logged = true
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cannot register with kubelet at %s: %v", pluginapi.KubeletSocket, err)
		}
		time.Sleep(*poll)
	}
}

// tell passes the newest state on (an older one not yet taken is dropped).
func (p *plugin) tell(st specState) {
	select {
	case <-p.updates:
	default:
	}
	p.updates <- st
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	host, err := os.Hostname()
	if err != nil {
		log.Fatalf("kindmps-device-plugin: no hostname for the CDI device name: %v", err)
	}
	if *device == "" {
		*device = "kindmps.dev/mps=" + host
	}
	node := (*device)[strings.LastIndex(*device, "=")+1:]
	current := readSpec(node)
	state := func() specState { return readSpec(node) }
	newPlugin := func(resource, socket string, kind resourceKind) *plugin {
		p := &plugin{resource: resource, socket: socket, kind: kind, state: state, updates: make(chan specState, 1)}
		if err := p.listen(); err != nil {
			log.Fatalf("kindmps-device-plugin: %s: %v", resource, err)
		}
		return p
	}
	nodePlugin := newPlugin(*resource, *sockName, nodeResource{cdi: *device})
	if err := nodePlugin.register(); err != nil {
		log.Fatalf("kindmps-device-plugin: %s: %v", nodePlugin.resource, err)
	}
	plugins := []*plugin{nodePlugin}
	perGPU := map[int]bool{}
	// A GPU's resource registers on its own: the loop goes on telling the others of the spec.
	addGPUs := func(st specState) {
		for _, g := range st.gpus {
			if !perGPU[g] {
				perGPU[g] = true
				p := newPlugin(fmt.Sprintf("%s-gpu%d", *resource, g),
					fmt.Sprintf("%s-gpu%d.sock", strings.TrimSuffix(*sockName, ".sock"), g), gpuResource{cdi: *device, gpu: g})
				plugins = append(plugins, p)
				go func() {
					if err := p.register(); err != nil {
						log.Fatalf("kindmps-device-plugin: %s: %v", p.resource, err)
					}
				}()
			}
		}
	}
	addGPUs(current)
	log.Printf("kindmps-device-plugin: %d devices per GPU, Allocate gives CDI device %s (or %s-gpu<N>) while %s exists; GPUs of their own: %v",
		*count, *device, *device, *spec, current.gpus)
	for {
		time.Sleep(*poll)
		for _, p := range plugins {
			if _, err := os.Stat(filepath.Join(pluginapi.DevicePluginPath, p.socket)); err != nil {
				log.Fatalf("kindmps-device-plugin: %s is gone (kubelet restarted): exiting to register again", p.socket)
			}
		}
		if now := readSpec(node); !reflect.DeepEqual(now, current) {
			current = now
			log.Printf("kindmps-device-plugin: %s: present %v, GPUs of their own %v", *spec, now.present, now.gpus)
			for _, p := range plugins {
				p.tell(now)
			}
			addGPUs(now) // new ones read the spec themselves
		}
	}
}
