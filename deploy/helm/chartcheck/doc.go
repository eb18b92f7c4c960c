// Package chartcheck holds the checks of countersign's Helm chart,
// deploy/helm/countersign: its tests lint the chart and render it with the
// Helm SDK, as `helm lint` and `helm template` would, with no cluster, and
// hold the rendered manifests to what the countersign binary reads and to
// deploy/countersign.env.
//
// It is a module of its own so that Helm's k8s.io modules, newer than those
// Temporal's server allows in countersign's module, stay out of it.
package chartcheck
