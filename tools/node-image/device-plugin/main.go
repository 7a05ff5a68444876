// kindmps-device-plugin: the kubelet device plugin of a kindmps node. It advertises the extended
// resource kindmps.dev/mps (one device per MPS client slot) while the CDI spec that
// `kindmps-api up` writes into the node exists, and answers Allocate with that spec's CDI
// device, so that containerd gives the container everything MPS needs (the pipe directory, the
// GPU device nodes, the driver libraries, CUDA_MPS_PIPE_DIRECTORY) without privileged mode or
// hostPath volumes. A node without the spec (no GPU, or MPS not set up yet) advertises its
// devices as unhealthy, so no Pod that asks for MPS is scheduled there.
//
// kubelet deletes plugin sockets when it restarts: the plugin then exits, and systemd starts it
// again (Restart=always), which registers it anew.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

var (
	resource = flag.String("resource", "kindmps.dev/mps", "the extended resource advertised")
	count    = flag.Int("count", 48, "devices advertised (MPS serves up to 48 clients per GPU on Volta and later)")
	spec     = flag.String("spec", "/var/run/cdi/kindmps.json", "the CDI spec kindmps-api up writes; devices are healthy while it exists")
	device   = flag.String("cdi-device", "", "the CDI device Allocate names (default kindmps.dev/mps=<hostname>)")
	sockName = flag.String("socket", "kindmps.sock", "the plugin's socket under "+pluginapi.DevicePluginPath)
	poll     = flag.Duration("poll", 2*time.Second, "how often the spec and the socket are checked")
)

type plugin struct {
	pluginapi.UnimplementedDevicePluginServer
	health chan string // the devices' health whenever it changes
}

func specHealth() string {
	if _, err := os.Stat(*spec); err == nil {
		return pluginapi.Healthy
	}
	return pluginapi.Unhealthy
}

func devices(health string) []*pluginapi.Device {
	devs := make([]*pluginapi.Device, *count)
	for i := range devs {
		devs[i] = &pluginapi.Device{ID: fmt.Sprintf("mps-%d", i), Health: health}
	}
	return devs
}

func (p *plugin) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	return &pluginapi.DevicePluginOptions{}, nil
}

func (p *plugin) ListAndWatch(_ *pluginapi.Empty, s pluginapi.DevicePlugin_ListAndWatchServer) error {
	health := specHealth()
	for {
		if err := s.Send(&pluginapi.ListAndWatchResponse{Devices: devices(health)}); err != nil {
			return err
		}
		select {
		case health = <-p.health:
		case <-s.Context().Done():
			return nil
		}
	}
}

func (p *plugin) Allocate(_ context.Context, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	if specHealth() != pluginapi.Healthy {
		return nil, fmt.Errorf("%s is missing: run kindmps-api up", *spec)
	}
	resp := &pluginapi.AllocateResponse{}
	for range req.ContainerRequests {
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerAllocateResponse{
			CdiDevices: []*pluginapi.CDIDevice{{Name: *device}},
		})
	}
	return resp, nil
}

func (p *plugin) GetPreferredAllocation(context.Context, *pluginapi.PreferredAllocationRequest) (*pluginapi.PreferredAllocationResponse, error) {
	return &pluginapi.PreferredAllocationResponse{}, nil
}

func (p *plugin) PreStartContainer(context.Context, *pluginapi.PreStartContainerRequest) (*pluginapi.PreStartContainerResponse, error) {
	return &pluginapi.PreStartContainerResponse{}, nil
}

// register tells kubelet about the plugin, retrying while kubelet is not up yet.
func register() error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		conn, err := grpc.NewClient("unix://"+pluginapi.KubeletSocket, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err = pluginapi.NewRegistrationClient(conn).Register(ctx, &pluginapi.RegisterRequest{
				Version: pluginapi.Version, Endpoint: *sockName, ResourceName: *resource,
				Options: &pluginapi.DevicePluginOptions{},
			})
			cancel()
			conn.Close()
		}
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(*poll)
	}
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	if *device == "" {
		host, err := os.Hostname()
		if err != nil {
			log.Fatalf("kindmps-device-plugin: no hostname for the CDI device name: %v", err)
		}
		*device = "kindmps.dev/mps=" + host
	}
	sock := filepath.Join(pluginapi.DevicePluginPath, *sockName)
	_ = os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		log.Fatalf("kindmps-device-plugin: %v", err)
	}
	p := &plugin{health: make(chan string, 1)}
	srv := grpc.NewServer()
	pluginapi.RegisterDevicePluginServer(srv, p)
	go func() { _ = srv.Serve(l) }()
	if err := register(); err != nil {
		log.Fatalf("kindmps-device-plugin: cannot register with kubelet at %s: %v", pluginapi.KubeletSocket, err)
	}
	log.Printf("kindmps-device-plugin: %s registered: %d devices, Allocate gives CDI device %s while %s exists",
		*resource, *count, *device, *spec)
	health := specHealth()
	for {
		time.Sleep(*poll)
		if _, err := os.Stat(sock); err != nil {
			log.Fatalf("kindmps-device-plugin: %s is gone (kubelet restarted): exiting to register again", sock)
		}
		if now := specHealth(); now != health {
			health = now
			log.Printf("kindmps-device-plugin: devices %s (%s)", health, *spec)
			select { // only the newest health counts
			case <-p.health:
			default:
			}
			p.health <- health
		}
	}
}
