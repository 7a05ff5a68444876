package main

import (
	"reflect"
	"strings"
	"testing"

	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
)

const perGPUSpec = `{"cdiVersion":"0.6.0","kind":"kindmps.dev/mps","devices":[
  {"name":"lab-worker","containerEdits":{}},
  {"name":"lab-worker-gpu3","containerEdits":{}},
  {"name":"lab-worker-gpu1","containerEdits":{}},
  {"name":"lab-worker2-gpu7","containerEdits":{}},
  {"name":"lab-worker-gpu01","containerEdits":{}},
  {"name":"lab-worker-gpux","containerEdits":{}}]}`

func TestParseSpecFindsTheNodesPerGPUDevicesOnly(t *testing.T) {
	st, err := parseSpec([]byte(perGPUSpec), "lab-worker")
	if err != nil {
		t.Fatal(err)
	}
	if !st.present || !reflect.DeepEqual(st.gpus, []int{1, 3}) {
		t.Fatalf("got %+v, want present with GPUs [1 3] (not worker2's, not gpu01 or gpux)", st)
	}
	st, err = parseSpec([]byte(`{"devices":[{"name":"lab-worker"}]}`), "lab-worker")
	if err != nil || !st.present || len(st.gpus) != 0 {
		t.Fatalf("a node device alone: got %+v, %v", st, err)
	}
	if _, err := parseSpec([]byte(`{"devices":`), "lab-worker"); err == nil {
		t.Fatal("a truncated spec parsed")
	}
}

func ids(devs []*pluginapi.Device) []string {
	var out []string
	for _, d := range devs {
		out = append(out, d.ID+"/"+d.Health)
	}
	return out
}

func TestTheNodeResourceHasCountDevicesPerGPU(t *testing.T) {
	*count = 2
	defer func() { *count = 48 }()
	r := nodeResource{cdi: "kindmps.dev/mps=lab-worker"}
	if got := ids(r.devices(specState{})); !reflect.DeepEqual(got, []string{"mps-0/Unhealthy", "mps-1/Unhealthy"}) {
		t.Errorf("no spec: %v", got)
	}
	if got := ids(r.devices(specState{present: true})); !reflect.DeepEqual(got, []string{"mps-0/Healthy", "mps-1/Healthy"}) {
		t.Errorf("one daemon: %v", got)
	}
	got := ids(r.devices(specState{present: true, gpus: []int{0, 5}}))
	want := []string{"gpu0-mps-0/Healthy", "gpu0-mps-1/Healthy", "gpu5-mps-0/Healthy", "gpu5-mps-1/Healthy"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("per GPU: %v, want %v", got, want)
	}
	g := gpuResource{cdi: "kindmps.dev/mps=lab-worker", gpu: 5}
	if got := ids(g.devices(specState{present: true, gpus: []int{0}})); got[0] != "mps-0/Unhealthy" {
		t.Errorf("a GPU the spec lacks: %v", got)
	}
}

func request(devices ...[]string) *pluginapi.AllocateRequest {
	req := &pluginapi.AllocateRequest{}
	for _, d := range devices {
		req.ContainerRequests = append(req.ContainerRequests, &pluginapi.ContainerAllocateRequest{DevicesIds: d})
	}
	return req
}

func cdiNames(resp *pluginapi.AllocateResponse) []string {
	var out []string
	for _, c := range resp.ContainerResponses {
		for _, d := range c.CdiDevices {
			out = append(out, d.Name)
		}
	}
	return out
}

func TestAllocateGivesEachContainerItsGPUsCDIDevice(t *testing.T) {
	st := specState{present: true, gpus: []int{0, 1}}
	node := nodeResource{cdi: "kindmps.dev/mps=lab-worker"}
	resp, err := allocate(node, st, request([]string{"gpu1-mps-4"}, []string{"gpu0-mps-0", "gpu0-mps-9"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kindmps.dev/mps=lab-worker-gpu1", "kindmps.dev/mps=lab-worker-gpu0"}
	if got := cdiNames(resp); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	resp, err = allocate(node, specState{present: true}, request([]string{"mps-3"}))
	if err != nil || !reflect.DeepEqual(cdiNames(resp), []string{"kindmps.dev/mps=lab-worker"}) {
		t.Errorf("one daemon: %v, %v", cdiNames(resp), err)
	}
	gpu := gpuResource{cdi: "kindmps.dev/mps=lab-worker", gpu: 1}
	resp, err = allocate(gpu, st, request([]string{"mps-0"}))
	if err != nil || !reflect.DeepEqual(cdiNames(resp), []string{"kindmps.dev/mps=lab-worker-gpu1"}) {
		t.Errorf("kindmps.dev/mps-gpu1: %v, %v", cdiNames(resp), err)
	}
	for what, c := range map[string]struct {
		kind resourceKind
		st   specState
		ids  []string
		says string
	}{
		"two GPUs in one container": {node, st, []string{"gpu0-mps-0", "gpu1-mps-0"}, "several GPUs"},
		"no spec":                   {node, specState{}, []string{"mps-0"}, "is missing: run kindmps-api up"},
		"a GPU the spec lost":       {node, specState{present: true, gpus: []int{0}}, []string{"gpu1-mps-0"}, "no device for GPU 1"},
		"a GPU resource it lost":    {gpu, specState{present: true, gpus: []int{0}}, []string{"mps-0"}, "no device for GPU 1"},
		"no device":                 {node, st, nil, "no device"},
	} {
		if _, err := allocate(c.kind, c.st, request(c.ids)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want an error saying %q", what, err, c.says)
		}
	}
}

func TestPreferKeepsAContainerOnOneGPU(t *testing.T) {
	c := &pluginapi.ContainerPreferredAllocationRequest{
		AvailableDeviceIDs: []string{"gpu0-mps-0", "gpu1-mps-0", "gpu1-mps-1", "gpu0-mps-1", "gpu1-mps-2"},
		AllocationSize:     2,
	}
	if got := prefer(c); !reflect.DeepEqual(got, []string{"gpu1-mps-0", "gpu1-mps-1"}) {
		t.Errorf("the GPU with the most free devices: %v", got)
	}
	c.AllocationSize = 3 // GPU 1 has three free, GPU 10 four
	c.AvailableDeviceIDs = append(c.AvailableDeviceIDs, "gpu10-mps-0", "gpu10-mps-1", "gpu10-mps-2", "gpu10-mps-3")
	if got := prefer(c); !reflect.DeepEqual(got, []string{"gpu10-mps-0", "gpu10-mps-1", "gpu10-mps-2"}) {
		t.Errorf("the GPU with the most free devices, by number: %v", got)
	}
	c.AvailableDeviceIDs = []string{"gpu0-mps-0", "gpu0-mps-1", "gpu0-mps-2", "gpu9-mps-0", "gpu9-mps-1", "gpu9-mps-2"}
	if got := prefer(c); !reflect.DeepEqual(got, []string{"gpu0-mps-0", "gpu0-mps-1", "gpu0-mps-2"}) {
		t.Errorf("equals: the lowest minor: %v", got)
	}
	c.AllocationSize = 2
	c.AvailableDeviceIDs = []string{"gpu0-mps-0", "gpu1-mps-0", "gpu1-mps-1"}
	c.MustIncludeDeviceIDs = []string{"gpu0-mps-1"}
	if got := prefer(c); !reflect.DeepEqual(got, []string{"gpu0-mps-1", "gpu0-mps-0"}) {
		t.Errorf("the must-include device's GPU: %v", got)
	}
}

func TestDeviceGPU(t *testing.T) {
	for id, want := range map[string]int{"gpu0-mps-3": 0, "gpu12-mps-0": 12} {
		if g, ok := deviceGPU(id); !ok || g != want {
			t.Errorf("%s: %d %v", id, g, ok)
		}
	}
	for _, id := range []string{"mps-3", "gpu-mps-1", "gpux-mps-1", "gpu1"} {
		if _, ok := deviceGPU(id); ok {
			t.Errorf("%s has a GPU", id)
		}
	}
}
