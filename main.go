// Command expertiza is the Expertiza desktop client.
package main

import (
	"flag"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/expertiza/expertiza/assets"
	"github.com/expertiza/expertiza/ui"
)

// appID must match FyneApp.toml: preferences and storage live under it.
const appID = "ru.expertiza.desktop"

func main() {
	server := flag.String("server", os.Getenv("EXPERTIZA_SERVER"),
		"sync server address (default: $EXPERTIZA_SERVER, else the last one used, else http://127.0.0.1:8443)")
	debug := flag.Bool("debug", false, "log debug messages")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("Expertiza")
	ui.Create(a, w, ui.Options{ServerURL: *server, Log: log})
	w.SetMaster()
	w.ShowAndRun()
}
