// Package api is caseledger's wire vocabulary: what travels between an
// agency's client and its gateway (/v1 requests and responses, problem
// documents and their codes, header names), what the chaincode returns and
// emits (ledger results, event payloads, function names), and the files the
// network generates for an agency's services (API and connection details).
//
// It imports only the standard library and domain, so that an API client
// links none of the server: no Fabric, gRPC, Badger or Prometheus. The
// server packages (gateway, chaincode, network, privacy-service) define
// their behaviour over these types; the client package speaks them.
package api
