package boot_test

import (
	"context"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestNewDeviceNotice: a sign-in from a device never seen before notifies
// the user (not the very first sign-in of a new account, and not a known
// device again), and login history records it.
func TestNewDeviceNotice(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	a := testenv.Applicant(t, s) // first sign-in ever, from its own device
	count := func() int {
		ns, err := a.C.Notifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range ns {
			if x.Kind == wire.NotifyNewDevice {
				n++
			}
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("first sign-in of a new account gave %d new-device notices", n)
	}
	laptop := client.New(s.URL(), client.WithDeviceID("laptop-1"))
	for i, want := range []int{1, 1} { // a new device, then the same one again
		if _, err := laptop.Login(ctx, wire.LoginRequest{Login: a.User.Login, Password: a.Password, DeviceName: "Ноутбук"}); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != want {
			t.Fatalf("after sign-in %d from the laptop: %d notices, want %d", i+1, n, want)
		}
	}
	hist, err := a.C.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || !hist[1].NewDev || hist[0].NewDev || hist[1].Device != "Ноутбук" {
		t.Fatalf("login history: %+v", hist)
	}
}
