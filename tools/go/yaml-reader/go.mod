// Test tooling only: a YAML reader that is not ours. It splits and decodes files with the code kubectl and
// Flux read manifests with (k8s.io/apimachinery's document reader and sigs.k8s.io/yaml, at the Kubernetes
// release the examples run), so a rendered file our own reader accepts but the ecosystem's refuses fails a
// test. packages/testkit/src/build-programs.ts builds it into a cache outside the repository.
module groundwork.dev/tools/yaml-reader

go 1.26.0

require (
	k8s.io/apimachinery v0.36.3
	sigs.k8s.io/yaml v1.6.0
)

require (
	go.yaml.in/yaml/v2 v2.4.3 // indirect
	sigs.k8s.io/json v0.0.0-20250730193827-2d320260d730 // indirect
)
