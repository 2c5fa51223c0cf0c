package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

// manifests decodes every deploy/k8s/*.yaml but kustomization.yaml into
// the Kubernetes API types, strictly: an unknown or repeated field fails,
// as kubectl apply --validate=strict would fail it.
func manifests(t *testing.T) map[string]runtime.Object {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, batchv1.AddToScheme, corev1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	dec := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s (%v)", err)
	}
	out := map[string]runtime.Object{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := dec.Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = obj
	}
	return out
}

func manifest[T runtime.Object](t *testing.T, all map[string]runtime.Object, file string) T {
	t.Helper()
	obj, ok := all[file].(T)
	if !ok {
		t.Fatalf("deploy/k8s/%s is a %T", file, all[file])
	}
	return obj
}

// TestKubernetesManifests checks what a cluster would only show at run
// time: probes on the port cohortline listens on, a non-root and
// read-only container, resources, a PodDisruptionBudget and a Service
// that select the Deployment's pods, secrets from the Secret only, and
// the ConfigMap's config against the example.
func TestKubernetesManifests(t *testing.T) {
	all := manifests(t)
	dep := manifest[*appsv1.Deployment](t, all, "deployment.yaml")
	pods := labels.Set(dep.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(pods) {
		t.Errorf("the Deployment's selector %v does not select its pods %v (%v)", dep.Spec.Selector, pods, err)
	}
	// A member beyond the topic's partitions holds none (deployment.yaml).
	if r := dep.Spec.Replicas; r == nil || *r < 1 || *r > 4 {
		t.Errorf("replicas %v: want 1 to 4, at most the topic's partitions", r)
	}
	checkPod(t, "the Deployment", dep.Spec.Template.Spec, true)

	pdb := manifest[*policyv1.PodDisruptionBudget](t, all, "pdb.yaml")
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(pods) {
		t.Errorf("the PodDisruptionBudget selects %v, not the Deployment's pods %v", pdb.Spec.Selector, pods)
	}
	if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
		t.Error("the PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
	}

	svc := manifest[*corev1.Service](t, all, "service.yaml")
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(pods) || len(svc.Spec.Selector) == 0 {
		t.Errorf("the metrics Service selects %v, not the Deployment's pods %v", svc.Spec.Selector, pods)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 9464 || svc.Spec.Ports[0].TargetPort.String() != "metrics" {
		t.Errorf("the metrics Service's ports %+v: want 9464 to the pods' metrics port", svc.Spec.Ports)
	}

	job := manifest[*batchv1.Job](t, all, "backfill-job.yaml")
	if job.Spec.Suspend == nil || !*job.Spec.Suspend {
		t.Error("the backfill Job must be created suspended: its range is a placeholder")
	}
	if args := job.Spec.Template.Spec.Containers[0].Args; len(args) == 0 || args[0] != "backfill" || !slices.Contains(args, "--from") || !slices.Contains(args, "--to") {
		t.Errorf("the backfill Job runs %v, want cohortline backfill --from … --to …", args)
	}
	checkPod(t, "the backfill Job", job.Spec.Template.Spec, false)

	secret := manifest[*corev1.Secret](t, all, "secret.yaml")
	for _, key := range []string{"COHORTLINE_SECRET", "COHORTLINE_CLICKHOUSE_PASSWORD"} {
		if v, ok := secret.StringData[key]; !ok || v != "REPLACE-ME" {
			t.Errorf("the Secret's %s is %q: want the placeholder REPLACE-ME (never a real secret in the repository)", key, v)
		}
	}
	if len(secret.Data) != 0 {
		t.Errorf("the Secret has data %v: placeholders only", secret.Data)
	}

	cm := manifest[*corev1.ConfigMap](t, all, "configmap.yaml")
	config, ok := cm.Data["cohortline.yaml"]
	if !ok {
		t.Fatal("the ConfigMap has no cohortline.yaml")
	}
	checkConfig(t, "deploy/k8s/configmap.yaml", []byte(config))
	var listen struct{ HTTP struct{ Listen string } }
	if err := yaml.Unmarshal([]byte(config), &listen); err != nil || !strings.HasPrefix(listen.HTTP.Listen, "0.0.0.0:9464") {
		t.Errorf("http.listen %q: the probes and the Service reach the pod on 0.0.0.0:9464", listen.HTTP.Listen)
	}

	kust, err := os.ReadFile("k8s/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for file := range all {
		if listed := strings.Contains(string(kust), "- "+file+"\n"); listed == (file == "backfill-job.yaml") {
			t.Errorf("kustomization.yaml: %s listed %v; every manifest but the backfill Job (applied by hand) belongs in it", file, listed)
		}
	}
}

// checkPod checks one pod template: cohortline's image and config mount,
// secrets from the Secret, a non-root, read-only container without
// capabilities, requests and limits, and, for the daemon, the probes.
func checkPod(t *testing.T, what string, pod corev1.PodSpec, daemon bool) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s has %d containers, want 1", what, len(pod.Containers))
	}
	c := pod.Containers[0]
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: the pod must run as a non-root user (runAsNonRoot, runAsUser 65532 as in the image)", what)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: the container must not escalate, must have a read-only root and drop ALL capabilities: %+v", what, sc)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s and limit %s: want both, request at most limit", what, r, req.String(), lim.String())
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == "/etc/cohortline"
	}
	if !mounted || !slices.Contains(c.Args, "/etc/cohortline/cohortline.yaml") {
		t.Errorf("%s: the config must be mounted at /etc/cohortline and named by --config (args %v)", what, c.Args)
	}
	secrets := map[string]bool{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == "cohortline" {
			secrets[e.Name] = true
		} else if strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "PASSWORD") {
			t.Errorf("%s: %s is not from the Secret", what, e.Name)
		}
	}
	if !secrets["COHORTLINE_SECRET"] || !secrets["COHORTLINE_CLICKHOUSE_PASSWORD"] {
		t.Errorf("%s: COHORTLINE_SECRET and COHORTLINE_CLICKHOUSE_PASSWORD must come from the Secret: %v", what, secrets)
	}
	if !daemon {
		return
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != 9464 {
		t.Errorf("%s: ports %+v, want metrics on 9464 (http.listen)", what, c.Ports)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		want := "/healthz"
		if name == "readiness" {
			want = "/readyz"
		}
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s: the %s probe %+v, want GET %s on the metrics port", what, name, p, want)
		}
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 30 {
		t.Errorf("%s: terminationGracePeriodSeconds %v: shutdown flushes and commits, give it 30s or more", what, pod.TerminationGracePeriodSeconds)
	}
}
