package compress_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]compress.Config{
		"level too high":       {Level: 10},
		"level negative":       {Level: -1},
		"padding negative":     {Padding: -1},
		"padding too large":    {Padding: compress.MaxPadding + 1},
		"negative max decoded": {MaxDecompressedSize: -1},
		"brotli encoding":      {Encodings: []compress.Encoding{"br"}},
		"identity encoding":    {Encodings: []compress.Encoding{compress.Identity}},
		"duplicate encoding":   {Encodings: []compress.Encoding{compress.Gzip, compress.Gzip}},
		"bad content type":     {ContentTypes: []string{"json"}},
		"malformed type":       {ContentTypes: []string{"text/html; ="}},
		"catch-all type":       {ContentTypes: []string{"*/*"}},
	} {
		if c, err := compress.New(cfg); !errors.Is(err, compress.ErrInvalidConfig) || c != nil {
			t.Errorf("%s: New = %v, %v; want ErrInvalidConfig", name, c, err)
		}
	}
}

func TestNewAcceptsValidConfig(t *testing.T) {
	for name, cfg := range map[string]compress.Config{
		"zero":       {},
		"full":       {Level: 9, MinSize: 1, ContentTypes: []string{"text/*"}, Encodings: []compress.Encoding{compress.Gzip}, Padding: compress.MaxPadding, DecompressRequests: true, MaxDecompressedSize: 1},
		"fastest":    {Level: 1},
		"no minimum": {MinSize: -1},
	} {
		if _, err := compress.New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseEncodings(t *testing.T) {
	got, err := compress.ParseEncodings(" GZIP , zstd,")
	if err != nil || !slices.Equal(got, []compress.Encoding{compress.Gzip, compress.Zstd}) {
		t.Fatalf("ParseEncodings = %v, %v", got, err)
	}
	for _, bad := range []string{"", " , ", "br", "gzip, deflate"} {
		if _, err := compress.ParseEncodings(bad); !errors.Is(err, compress.ErrUnsupportedEncoding) {
			t.Errorf("ParseEncodings(%q) error %v", bad, err)
		}
	}
}

func TestDefaultsAreFreshCopies(t *testing.T) {
	a := compress.DefaultContentTypes()
	a[0] = "changed/type"
	if compress.DefaultContentTypes()[0] == "changed/type" {
		t.Fatal("DefaultContentTypes shares its slice")
	}
	if len(compress.DefaultContentTypes()) != 9 || !slices.Equal(compress.DefaultEncodings(), []compress.Encoding{compress.Zstd, compress.Gzip}) {
		t.Fatal("defaults changed")
	}
}
