package rediscache

import (
	"reflect"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	m := message{origin: [16]byte{1, 2, 3}, keys: []string{"cache:k:a", "", "k\x00\xff"}}
	got, err := parseMessage(m.marshal())
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	all := message{all: true, keys: []string{}}
	if got, err := parseMessage(all.marshal()); err != nil || !got.all {
		t.Fatalf("clear-all message = %+v, %v", got, err)
	}
}

// FuzzMessage: any payload published on the channel (anyone with Redis access can publish)
// is either rejected or re-encodes to an equal message.
func FuzzMessage(f *testing.F) {
	f.Add((&message{keys: []string{"a", "b"}}).marshal())
	f.Add((&message{all: true}).marshal())
	f.Add([]byte{1})
	f.Add(append([]byte{1}, make([]byte, 17)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			return
		}
		m2, err := parseMessage(m.marshal())
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("message does not round-trip: %+v vs %+v (%v)", m, m2, err)
		}
	})
}
