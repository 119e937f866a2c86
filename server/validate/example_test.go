package validate_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"

	"github.com/expertiza/expertiza/server/validate"
	"github.com/expertiza/expertiza/sync/wire"
)

// The server binary runs the PDF worker as a hidden subcommand of itself,
// dispatched first thing in main, before flags, the database or listeners.
func ExampleWorkerMain() {
	if len(os.Args) > 1 && os.Args[1] == "validate-worker" {
		os.Exit(validate.WorkerMain())
	}
	// … the normal start of the server …
}

func ExampleNew() {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	v := validate.New(validate.DefaultLimits(), slog.Default(), func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, exe, "validate-worker")
		cmd.Env = []string{"LANG=C.UTF-8"} // the worker needs nothing from the server's environment
		return cmd
	})
	res, err := v.Check(context.Background(), "/var/lib/expertiza/spool/42", "Раздел 3 АР.pdf")
	if we, ok := wire.AsError(err); ok {
		fmt.Println("refused:", we.Message) // shown to the applicant
		return
	}
	if err != nil {
		panic(err) // the server's problem: log it, answer 500
	}
	fmt.Println(res.Kind, res.Pages, len(res.WirePageSizes()))
}
