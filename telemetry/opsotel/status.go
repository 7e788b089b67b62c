package opsotel

import (
	"errors"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/igniter-go/store/ops"
)

// failure returns the error.type of err and the attributes of a failure: error.type, then
// db.response.status_code when err holds a Redis error reply.
func failure(err error) (string, []attribute.KeyValue) {
	et := errorType(err)
	if sc := statusCode(err); sc != "" {
		return et, []attribute.KeyValue{semconv.ErrorTypeKey.String(et), semconv.DBResponseStatusCode(sc)}
	}
	return et, []attribute.KeyValue{semconv.ErrorTypeKey.String(et)}
}

// errorType is the STORE_* code of err, or _OTHER.
func errorType(err error) string {
	if c := ops.CodeOf(err); c != "" {
		return string(c)
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// redisError is go-redis's redis.Error, an error reply of the server, matched by its method so
// that this package does not import go-redis.
type redisError interface {
	error
	RedisError()
}

// maxStatusCode bounds the length of a status code.
const maxStatusCode = 32

// statusCode returns the simple-error prefix (ERR, WRONGTYPE, NOSCRIPT, CLUSTERDOWN…) of the
// Redis error reply err holds, or "". Only a first word of upper-case ASCII letters and
// underscores, at most maxStatusCode long and starting with a letter, counts: a reply that
// starts with anything else (data a script put there, an error of the store's own that poses as
// a reply) gives no code, so the attribute never carries more than a prefix.
func statusCode(err error) string {
	var re redisError
	if !errors.As(err, &re) {
		return ""
	}
	msg := re.Error()
	n := 0
	for n < len(msg) && n <= maxStatusCode && (msg[n] >= 'A' && msg[n] <= 'Z' || n > 0 && msg[n] == '_') {
		n++
	}
	if n == 0 || n > maxStatusCode || n < len(msg) && msg[n] != ' ' {
		return ""
	}
	return msg[:n]
}
