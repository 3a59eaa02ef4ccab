package harden_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/nexus-reussite/harden"

// The README's "Harden a service in one call" builds the service of Example, line for
// line, up to its last route: the snippet cannot drift from code that compiles and runs.
func TestREADMESnippetIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	example, err := os.ReadFile("example_test.go")
	require.NoError(t, err)

	section := strings.SplitN(string(readme), "## Harden a service in one call", 2)
	require.Len(t, section, 2, "README.md has the section")
	code := strings.SplitN(strings.SplitN(section[1], "```go\n", 2)[1], "```", 2)[0]
	var snippet []string
	for line := range strings.Lines(code) {
		line = normalize(line)
		if line == "" || line == "func main() {" {
			continue
		}
		snippet = append(snippet, line)
		if strings.HasPrefix(line, `mux.Handle("GET /formulas"`) {
			break
		}
	}
	require.Greater(t, len(snippet), 10)

	var lines []string
	for line := range strings.Lines(string(example)) {
		lines = append(lines, normalize(line))
	}
	i := 0
	for _, want := range snippet {
		for i < len(lines) && lines[i] != want {
			i++
		}
		if !assert.Less(t, i, len(lines), "README line not in Example (in order): %s", want) {
			return
		}
	}
}

// normalize trims a line and collapses its runs of blanks, which gofmt aligns.
func normalize(line string) string { return strings.Join(strings.Fields(line), " ") }

// Every package stays independent: its non-test code imports no other package of the
// module, apart from internal ones and its own subpackages. Only the root composes them.
func TestPackagesImportNoOtherPackage(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "examples" || path == "benchmarks" || path == "internal" || strings.HasPrefix(d.Name(), ".") && path != "." {
				return filepath.SkipDir
			}
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		top := strings.SplitN(dir, "/", 2)[0]
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			rel, ok := strings.CutPrefix(p, module+"/")
			if !ok || strings.HasPrefix(rel, "internal/") || strings.Contains(rel, "/internal/") {
				continue
			}
			assert.Equal(t, top, strings.SplitN(rel, "/", 2)[0], "%s imports %s", path, p)
		}
		checked++
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, checked, 50)
}
