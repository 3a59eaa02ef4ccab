package problem_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/nexus-reussite/harden/internal/problem"
)

func ExampleWrite() {
	rec := httptest.NewRecorder()
	rec.Header().Set("Retry-After", "2")
	problem.Write(rec, problem.Problem{
		Status:     http.StatusTooManyRequests,
		Detail:     "Rate limit of 2 per second exceeded; retry later.",
		Extensions: map[string]any{"retry_after": 2},
	})
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Retry-After"))
	fmt.Println(rec.Body.String())
	// Output:
	// 429 application/problem+json 2
	// {"detail":"Rate limit of 2 per second exceeded; retry later.","retry_after":2,"status":429,"title":"Too Many Requests","type":"about:blank"}
}

func ExampleError() {
	rec := httptest.NewRecorder()
	problem.Error(rec, http.StatusRequestEntityTooLarge, "The request body exceeds the size limit.")
	fmt.Println(rec.Code, rec.Header().Get("Content-Length"))
	fmt.Println(rec.Body.String())
	// Output:
	// 413 122
	// {"detail":"The request body exceeds the size limit.","status":413,"title":"Request Entity Too Large","type":"about:blank"}
}
