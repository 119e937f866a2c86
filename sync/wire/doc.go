// Package wire holds the domain types, requests, events and error codes that
// the Expertiza client and sync server both speak. It imports only the
// standard library so that neither side drags the other's dependencies in.
package wire
