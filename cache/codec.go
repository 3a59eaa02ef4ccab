package cache

import (
	"encoding/json"
	"fmt"
)

// Codec turns values into bytes and back. encoding/json is the default; []byte and string
// values bypass the codec and are stored as they are.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// jsonCodec is the default Codec.
type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func encodeValue(c Codec, v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	b, err := c.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal %T: %w", ErrCodec, v, err)
	}
	return b, nil
}

func decodeValue(c Codec, data []byte, dst any) error {
	switch x := dst.(type) {
	case *[]byte:
		*x = append((*x)[:0:0], data...)
		return nil
	case *string:
		*x = string(data)
		return nil
	}
	if err := c.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("%w: unmarshal into %T: %w", ErrCodec, dst, err)
	}
	return nil
}
