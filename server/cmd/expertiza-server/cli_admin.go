package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// The administrators' account, organisation and calendar commands: thin
// wrappers over the same service calls the admin screen makes, run as the
// "cli" actor (journaled as such).

const userUsage = `usage:
  expertiza-server user add --login L --name N --role R [--email E] [--org-inn INN] [--totp]
  expertiza-server user list [--role R] [--search TEXT] [--data DIR]
  expertiza-server user disable|enable|unlock|reset-2fa LOGIN [--data DIR]
  expertiza-server user role LOGIN applicant|expert|manager|admin [--data DIR]`

// positional splits the leading arguments that are not flags from the
// flags after them: "user disable ivanova --data D".
func positional(args []string) (pos, flags []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return args[:i], args[i:]
		}
	}
	return args, nil
}

func cmdUserAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub, rest := args[0], args[1:]
	if sub == "list" {
		return cmdUserList(ctx, rest, stdout, stderr)
	}
	pos, flags := positional(rest)
	want := 1
	if sub == "role" {
		want = 2
	}
	switch sub {
	case "disable", "enable", "unlock", "reset-2fa", "role":
	default:
		return fmt.Errorf("unknown user command %q\n%s", sub, userUsage)
	}
	if len(pos) != want {
		return fmt.Errorf("user %s: give the login%s before the flags\n%s", sub, map[bool]string{true: " and the role"}[sub == "role"], userUsage)
	}
	login := pos[0]
	return withDB(ctx, "user "+sub, flags, stderr, nil, func(ctx context.Context, env *cliEnv) error {
		id, err := env.svc.UserIDByLogin(ctx, login)
		if err != nil {
			return err
		}
		switch sub {
		case "disable", "enable":
			if err := env.svc.SetUserDisabled(ctx, nil, id, sub == "disable"); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %q %sd\n", login, sub)
		case "unlock":
			u, err := env.svc.UnlockUser(ctx, nil, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %q unlocked (failed sign-ins reset to %d)\n", u.Login, u.FailedLogins)
		case "reset-2fa":
			if _, err := env.svc.ResetTOTP(ctx, nil, id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "two-factor authentication of %q reset: their sessions ended, the next sign-in enrols a new one\n", login)
		case "role":
			u, err := env.svc.SetUserRole(ctx, nil, id, wire.Role(pos[1]))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "user %q is now %s\n", u.Login, u.Role)
		}
		return nil
	})
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var q wire.UserQuery
	var role string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "only this role: applicant, expert, manager or admin")
		fs.StringVar(&q.Text, "search", "", "text in the login, name or e-mail")
	}
	return withDB(ctx, "user list", args, stderr, extra, func(ctx context.Context, env *cliEnv) error {
		q.Role = wire.Role(role)
		users, err := env.svc.SearchUsers(ctx, nil, q)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tLOGIN\tROLE\tSTATE\t2FA\tNAME\tORGANISATION")
		now := time.Now()
		for _, u := range users {
			state := "active"
			switch {
			case u.Disabled:
				state = "disabled"
			case u.Locked(now):
				state = "locked"
			}
			totp := "-"
			if u.TOTPEnabled {
				totp = "on"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Login, u.Role, state, totp, u.FullName, u.OrgName)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d users\n", len(users))
		return nil
	})
}

func cmdOrg(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return errors.New("usage: expertiza-server org list [--search TEXT] [--data DIR]")
	}
	var text string
	extra := func(fs *flag.FlagSet) { fs.StringVar(&text, "search", "", "text in the name, short name or INN") }
	return withDB(ctx, "org list", args[1:], stderr, extra, func(ctx context.Context, env *cliEnv) error {
		orgs, err := env.svc.Organisations(ctx, nil, text)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tINN\tOGRN\tMEMBERS\tAPPLICATIONS\tNAME")
		for _, o := range orgs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\n", o.ID, o.INN, o.OGRN, o.Members, o.Applications, o.Name)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d organisations\n", len(orgs))
		return nil
	})
}

const calendarUsage = "usage: expertiza-server calendar set YYYY-MM-DD working|holiday [--note TEXT] [--data DIR]"

func cmdCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "set" {
		return errors.New(calendarUsage)
	}
	pos, flags := positional(args[1:])
	if len(pos) != 2 {
		return errors.New(calendarUsage)
	}
	day, err := wire.ParseDate(pos[0])
	if err != nil {
		return fmt.Errorf("calendar set: %q is not a date YYYY-MM-DD", pos[0])
	}
	var working bool
	switch pos[1] {
	case "working":
		working = true
	case "holiday":
	default:
		return fmt.Errorf("calendar set: %q: say working or holiday\n%s", pos[1], calendarUsage)
	}
	var note string
	extra := func(fs *flag.FlagSet) { fs.StringVar(&note, "note", "", "why (shown in the calendar)") }
	return withDB(ctx, "calendar set", flags, stderr, extra, func(ctx context.Context, env *cliEnv) error {
		if _, err := env.svc.SetCalendarDay(ctx, nil, day, wire.SetCalendarDayRequest{Working: working, Note: note}); err != nil {
			return err
		}
		kind := "a non-working day"
		if working {
			kind = "a working day"
		}
		fmt.Fprintf(stdout, "%s (%s) is now %s; running servers use it from their next start\n", day, day.Weekday(), kind)
		return nil
	})
}
