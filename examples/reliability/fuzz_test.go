package reliability

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the repository root, from this package's directory.
const repoRoot = "../.."

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)

// TestFuzzTargetsRunInCI lists every fuzz target of the repository and checks that the
// CI script runs each of them, in every module, for a bounded time; corpus entries kept
// under testdata/fuzz (crashers found and fixed, seeds) are counted.
func TestFuzzTargetsRunInCI(t *testing.T) {
	sec := section(t, "Fuzzing in CI",
		`.ci/run runs every func FuzzX of every package of the three modules for FUZZTIME (4 s by
default) after the tests; inputs that crashed are kept under testdata/fuzz and replayed by
every go test.`)
	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"modules=(. ./examples ./benchmarks)", `-fuzz "^${fn}\$"`, `-fuzztime "$FUZZTIME"`, "grep -hoE '^func Fuzz"} {
		if !strings.Contains(string(ci), want) {
			t.Errorf(".ci/run lacks %q: the fuzz loop changed", want)
		}
	}
	targets := map[string][]string{} // package directory → targets
	corpus := 0
	err = filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if strings.HasPrefix(name, ".") && path != repoRoot {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if strings.Contains(filepath.ToSlash(rel), "/testdata/fuzz/") || strings.HasPrefix(filepath.ToSlash(rel), "testdata/fuzz/") {
			corpus++
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			dir := filepath.ToSlash(filepath.Dir(rel))
			targets[dir] = append(targets[dir], string(m[1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, 0, len(targets))
	total := 0
	for dir, names := range targets {
		dirs = append(dirs, dir)
		total += len(names)
	}
	sort.Strings(dirs)
	sec.Addf("Fuzz targets", "%d in %d packages", total, len(dirs))
	for _, dir := range dirs {
		sort.Strings(targets[dir])
		sec.Add(dir, strings.Join(targets[dir], ", "))
	}
	sec.Add("Corpus entries kept under testdata/fuzz", corpus)
	if total == 0 {
		t.Error("no fuzz target found")
	}
}
