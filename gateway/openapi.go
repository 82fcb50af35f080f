package gateway

import (
	_ "embed"
	"net/http"
)

// openAPI is the API's source of truth; the route table is checked against
// it (openapi_test.go).
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3 document.
func OpenAPI() []byte { return openAPI }

func (s *Server) hOpenAPI(c *call) {
	c.w.Header().Set("Content-Type", "application/yaml")
	c.w.Header().Set("Cache-Control", "max-age=300")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(openAPI)
}
