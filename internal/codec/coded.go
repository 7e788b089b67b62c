package codec

import "github.com/igniter-go/store/ops"

// EncodeFor is Encode for an operation of kind: a value that cannot be encoded is
// STORE_SERIALIZATION_FAILED, wrapping the cause.
func EncodeFor(kind ops.Kind, v any) ([]byte, error) {
	b, err := Encode(v)
	if err != nil {
		return nil, ops.NewError(ops.CodeSerializationFailed, kind.Operation(), "Value cannot be serialized to JSON", err)
	}
	return b, nil
}

// DecodeFor is Decode for an operation of kind: data that does not fit dst is
// STORE_DESERIALIZATION_FAILED, wrapping the cause.
func DecodeFor(kind ops.Kind, data []byte, dst any) error {
	if err := Decode(data, dst); err != nil {
		return ops.NewError(ops.CodeDeserializationFailed, kind.Operation(), "Stored value cannot be decoded into the target", err)
	}
	return nil
}
