// Package kubetest starts a real Kubernetes API server (kube-apiserver and
// etcd, built into bin/ by `make kube`) for tests, and applies manifests to
// it with server-side dry runs, so that what the hand-off renders is checked
// by the API server's own validation, defaulting and admission rather than
// by a decoder.
package kubetest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// Server is a running API server.
type Server struct {
	URL    string
	token  string
	client *http.Client
}

// binDir is the repository's bin/, where `make kube` builds the binaries.
func binDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "bin")
}

// Start starts etcd and kube-apiserver from bin/ for the test and stops them
// when it ends. Without the binaries the test is skipped, unless
// MCLLM_REQUIRE_APISERVER=1 (as `make test` sets it), which fails it.
func Start(t testing.TB) *Server {
	t.Helper()
	etcd, apiserver := filepath.Join(binDir(), "etcd"), filepath.Join(binDir(), "kube-apiserver")
	for _, b := range []string{etcd, apiserver} {
		if _, err := os.Stat(b); err != nil {
			if os.Getenv("MCLLM_REQUIRE_APISERVER") == "1" {
				t.Fatalf("%s is missing: run make kube", b)
			}
			t.Skipf("%s is missing: run make kube to test against a real API server", b)
		}
	}
	dir := t.TempDir()
	clientPort, peerPort, securePort := freePort(t), freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	start(t, dir, "etcd", etcd, "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-cluster", fmt.Sprintf("default=http://127.0.0.1:%d", peerPort), "--log-level", "warn")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	saKey, saPub := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	writeFile(t, saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	writeFile(t, saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	token := "mcllm-test-token"
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, []byte(token+`,admin,1,"system:masters"`+"\n"))

	start(t, dir, "kube-apiserver", apiserver,
		"--etcd-servers", etcdURL, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(securePort), "--cert-dir", filepath.Join(dir, "certs"),
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey, "--service-cluster-ip-range", "10.96.0.0/24",
		"--authorization-mode", "RBAC", "--token-auth-file", tokens, "--enable-priority-and-fairness=false",
		// A loopback address cannot back the kubernetes Service's endpoints.
		"--endpoint-reconciler-type", "none")

	s := &Server{URL: fmt.Sprintf("https://127.0.0.1:%d", securePort), token: token, client: &http.Client{
		Timeout: 30 * time.Second,
		// The server's certificate is the one it made itself at start-up.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // a test server on loopback
	}}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, body, err := s.do("GET", "/readyz", "", nil)
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "kube-apiserver.log"))
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			t.Fatalf("kube-apiserver not ready after 3 minutes: %d %s %v\n%s", code, body, err, log)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return s
}

func start(t testing.TB, dir, name, bin string, args ...string) {
	t.Helper()
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logFile.Close()
	})
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) do(method, path, contentType string, body []byte) (int, string, error) {
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// ModuleDir is where the go command keeps module mod of the build: test
// data that a dependency ships (a CRD) is read from there.
func ModuleDir(t testing.TB, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", mod, err)
	}
	return strings.TrimSpace(string(out))
}

// resources maps the kinds the hand-off renders to their API paths.
var resources = map[string]struct {
	prefix, plural string
	namespaced     bool
}{
	"Namespace":                {"/api/v1", "namespaces", false},
	"Service":                  {"/api/v1", "services", true},
	"Deployment":               {"/apis/apps/v1", "deployments", true},
	"PodDisruptionBudget":      {"/apis/policy/v1", "poddisruptionbudgets", true},
	"LeaderWorkerSet":          {"/apis/leaderworkerset.x-k8s.io/v1", "leaderworkersets", true},
	"CustomResourceDefinition": {"/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", false},
}

// Apply server-side applies a YAML manifest, as `kubectl apply
// --server-side` does, with strict field validation: unknown or duplicate
// fields are errors. With dryRun the server validates, defaults and admits
// the object without storing it.
func (s *Server) Apply(manifest string, dryRun bool) error {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(manifest), &meta); err != nil {
		return fmt.Errorf("not a manifest: %w", err)
	}
	r, ok := resources[meta.Kind]
	if !ok {
		return fmt.Errorf("kind %s is not one the test server knows", meta.Kind)
	}
	path := r.prefix
	if r.namespaced {
		ns := meta.Metadata.Namespace
		if ns == "" {
			ns = "default"
		}
		path += "/namespaces/" + ns
	}
	path += "/" + r.plural + "/" + meta.Metadata.Name + "?fieldManager=mcllm-test&fieldValidation=Strict&force=true"
	if dryRun {
		path += "&dryRun=All"
	}
	code, body, err := s.do("PATCH", path, "application/apply-patch+yaml", []byte(manifest))
	if err != nil {
		return err
	}
	if code/100 != 2 {
		var status struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal([]byte(body), &status)
		return fmt.Errorf("%s %s/%s rejected (%d): %s", meta.Kind, meta.Metadata.Namespace, meta.Metadata.Name, code, status.Message)
	}
	return nil
}

// InstallCRD applies a CustomResourceDefinition and waits until the server
// serves its kind.
func (s *Server) InstallCRD(t testing.TB, manifest string) {
	t.Helper()
	if err := s.Apply(manifest, false); err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(manifest), &crd); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		code, body, err := s.do("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+crd.Metadata.Name, "", nil)
		if err == nil && code == http.StatusOK && strings.Contains(body, `"type":"Established","status":"True"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CRD %s not established: %d %v", crd.Metadata.Name, code, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// StartWithLWS starts a server with the CRD of the pinned LeaderWorkerSet
// release installed (as its Go module ships it, config/crd/bases) and the
// namespaces created.
func StartWithLWS(t testing.TB, namespaces ...string) *Server {
	t.Helper()
	s := Start(t)
	crd, err := os.ReadFile(filepath.Join(ModuleDir(t, "sigs.k8s.io/lws"), "config", "crd", "bases",
		"leaderworkerset.x-k8s.io_leaderworkersets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s.InstallCRD(t, string(crd))
	for _, ns := range namespaces {
		s.CreateNamespace(t, ns)
	}
	return s
}

// CreateNamespace creates a namespace for real (not a dry run), so that
// namespaced objects can be applied in it.
func (s *Server) CreateNamespace(t testing.TB, name string) {
	t.Helper()
	if err := s.Apply(fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name), false); err != nil {
		t.Fatal(err)
	}
}
