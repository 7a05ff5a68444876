// kindmps-netd is the node image's network agent, what kindnetd is to kind's images, kept small:
// it writes this node's CNI configuration (ptp + host-local over the node's podCIDR) and routes
// every other node's podCIDR via that node's address. It needs nothing but the API server, so a
// cluster made from the kindmps node image has Pod networking with no registry and no network.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	confDir  = "/etc/cni/net.d"
	confName = "10-kindmps.conflist"
	interval = 5 * time.Second
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("kindmps-netd: ")
	self := os.Getenv("NODE_NAME")
	if self == "" {
		log.Fatal("NODE_NAME is not set (the DaemonSet passes spec.nodeName)")
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		log.Fatalf("in-cluster config: %v", err)
	}
	// kind passes the control plane's own address: no Service (and no kube-proxy) needed.
	if ep := os.Getenv("CONTROL_PLANE_ENDPOINT"); ep != "" {
		cfg.Host = "https://" + ep
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	for {
		if err := syncOnce(context.Background(), client, self); err != nil {
			log.Print(err)
		}
		time.Sleep(interval)
	}
}

func syncOnce(ctx context.Context, client kubernetes.Interface, self string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		cidr := n.Spec.PodCIDR
		if cidr == "" {
			continue
		}
		if n.Name == self {
			if err := writeConf(cidr); err != nil {
				return err
			}
			continue
		}
		if err := routeVia(cidr, internalIPv4(n)); err != nil {
			return fmt.Errorf("route to %s of node %s: %w", cidr, n.Name, err)
		}
	}
	return nil
}

func internalIPv4(n *corev1.Node) net.IP {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip := net.ParseIP(a.Address).To4(); ip != nil {
			return ip
		}
	}
	return nil
}

func routeVia(cidr string, gw net.IP) error {
	_, dst, err := net.ParseCIDR(cidr)
	if err != nil || gw == nil || dst.IP.To4() == nil {
		return nil // IPv6 podCIDRs and nodes without an address yet are not routed
	}
	return netlink.RouteReplace(&netlink.Route{Dst: dst, Gw: gw})
}

// writeConf writes the CNI configuration atomically, and only when it changes.
func writeConf(cidr string) error {
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "kindmps",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": false,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": cidr}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(confDir, confName)
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	log.Printf("wrote %s for podCIDR %s", path, cidr)
	return nil
}
