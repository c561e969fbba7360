package handoff

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"
)

// strictYAML decodes the kinds the hand-off renders (core, apps, policy,
// LeaderWorkerSet), rejecting unknown and duplicate fields.
var strictYAML = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, lwsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
}()

// DecodeStrict reads a manifest back with the Kubernetes scheme, as a strict
// API server would: unknown or duplicate fields are errors. Tests use it to
// check what Render wrote.
func DecodeStrict(manifest string) (runtime.Object, error) {
	obj, _, err := strictYAML.Decode([]byte(manifest), nil, nil)
	return obj, err
}
