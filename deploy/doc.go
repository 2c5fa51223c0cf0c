// Package deploy holds no code: it is the folder of the deployment files
// (deploy/dev's local services, deploy/docker-compose.yml, deploy/k8s's
// manifests, the Grafana dashboard and the Prometheus alert rules), and its
// tests check them without Docker or a cluster: the manifests decode
// strictly into the Kubernetes API types, the compose file publishes on
// loopback only, every config names the example's keys, every metric a
// dashboard panel or a rule reads is one cohortline exports, and promtool
// accepts the rules and passes their unit tests.
package deploy
