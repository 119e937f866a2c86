// Package app is the desktop client's core without any user interface: the
// signed-in session, the in-memory state fed by the event stream, and the
// use cases the screens call. It must not import Fyne (the screens in ui/
// are a thin layer over it) nor pgx (the database is the server's).
package app
