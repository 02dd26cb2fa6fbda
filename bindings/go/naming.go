package valkeyaddon

/*
#include "shim.h"
*/
import "C"

// Name limits (valkeyaddon/naming.h).
const (
	NameMax = C.VALKEYADDON_NAME_MAX // the longest StatefulSet name whose pods can start
	IDMax   = C.VALKEYADDON_ID_MAX   // the longest tenant or app id
)

// ValkeyName is the StatefulSet (and ClusterIP Service) name of an add-on:
// `valkey-{tenantID}-{appID}` when that has at most 52 characters, else a
// shortened form with a hash (see Names for which one it was).
func ValkeyName(tenantID, appID string) (string, error) {
	n, err := Names(tenantID, appID)
	return n.StatefulSet, err
}

// AddonNames are the names of an add-on's Kubernetes objects.
type AddonNames struct {
	StatefulSet    string // also the ClusterIP Service
	AuthSecret     string // `{StatefulSet}-auth`: uri, host, port, password
	RedisURLSecret string // `app-{appID}-redis-url`: REDIS_URL for the app
	Shortened      bool   // the name was shortened and carries a hash
}

// Names gives every object name of the add-on of (tenantID, appID).
func Names(tenantID, appID string) (AddonNames, error) {
	var n AddonNames
	if err := checkArgs("tenant_id", tenantID, "app_id", appID); err != nil {
		return n, err
	}
	_, err := oneShot(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		var name, auth, url [C.VALKEYADDON_NAME_BUFSIZE]C.char
		rc := C.valkey_name(&name[0], C.size_t(len(name)), ctx, s.str(tenantID), s.str(appID))
		if rc < 0 {
			return rc
		}
		n.Shortened = rc == C.VALKEYADDON_NAME_SHORTENED
		if r := C.valkeyaddon_auth_secret_name(&auth[0], C.size_t(len(auth)), ctx, &name[0]); r < 0 {
			return r
		}
		if r := C.valkeyaddon_redis_url_secret_name(&url[0], C.size_t(len(url)), ctx, s.str(appID)); r < 0 {
			return r
		}
		n.StatefulSet, n.AuthSecret, n.RedisURLSecret = C.GoString(&name[0]), C.GoString(&auth[0]), C.GoString(&url[0])
		return rc
	})
	if err != nil {
		return AddonNames{}, err
	}
	return n, nil
}

// CheckID checks a tenant or app id (1 to 63 characters of [a-z0-9-], no
// leading or trailing '-'); argument names it in the error message.
func CheckID(argument, id string) error {
	if err := checkArgs("argument", argument, argument, id); err != nil {
		return err
	}
	_, err := oneShot(func(ctx *C.valkeyaddon_ctx, s *cstrings) C.int {
		return C.valkeyaddon_check_id(ctx, s.str(argument), s.str(id))
	})
	return err
}

// Version is the version of the loaded C library ("MAJOR.MINOR.PATCH").
func Version() string {
	return C.GoString(C.valkeyaddon_version(nil, nil, nil))
}

// HeaderVersion is the version of the headers this binding was compiled with.
const HeaderVersion = C.VALKEYADDON_VERSION
