package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/countersign/countersign"
)

// MaxUserLength is the most characters a user name may have.
const MaxUserLength = 128

// CLIActor is who the CLI's commands that write to the database directly
// (--database-url) record as the actor.
const CLIActor = "cli"

// configActorPrefix starts the actor of a change made from a configuration
// file ("config:slack-users.txt").
const configActorPrefix = "config:"

// Users are the people countersign knows by name: the users of API tokens,
// revoked ones included, and of Slack links.
type Users interface {
	ListTokens(ctx context.Context) ([]countersign.Token, error)
	SlackUsers(ctx context.Context) ([]countersign.SlackUser, error)
}

// CheckUser is the check of every user name a token or a Slack link is
// made for. The name must pass CheckUserName, and must not differ only in
// case or spaces from a user who has a token or a Slack link already: the
// audit log, four eyes and the separation of submitter and reviewer tell
// people apart by name, so "Rita" beside "rita" would be two people. The
// same name again is the same user, and passes. Refusals are invalid
// (422) and name the clash.
func CheckUser(ctx context.Context, users Users, name string) error {
	if err := CheckUserName(name); err != nil {
		return err
	}
	tokens, err := users.ListTokens(ctx)
	if err != nil {
		return fmt.Errorf("check user %s: %w", name, err)
	}
	links, err := users.SlackUsers(ctx)
	if err != nil {
		return fmt.Errorf("check user %s: %w", name, err)
	}
	type known struct{ name, how string }
	var all []known
	for _, t := range tokens {
		all = append(all, known{t.User, "a user with an API token"})
	}
	for _, l := range links {
		all = append(all, known{l.User, "a user with a Slack link"})
	}
	for _, k := range all {
		if k.name == name {
			return nil
		}
	}
	key := foldName(name)
	for _, k := range all {
		if foldName(k.name) == key {
			return countersign.Errorf(countersign.CodeInvalid, "user name %q is too like %q, %s: names that differ only in case or spaces would be two people in the audit log; use %q, or a name of its own", name, k.name, k.how, k.name)
		}
	}
	return nil
}

// CheckUserName refuses a user name that is empty, longer than
// MaxUserLength characters, not UTF-8, starts or ends with a space, has a
// character that cannot be printed (control and format characters, spaces
// other than U+0020), or is one countersign records its own actions as:
// countersign.SystemActor, CLIActor, or config:... (in any case).
func CheckUserName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return countersign.Errorf(countersign.CodeInvalid, "a user name is needed")
	case n > MaxUserLength:
		return countersign.Errorf(countersign.CodeInvalid, "user name is %d characters; the limit is %d", n, MaxUserLength)
	case !utf8.ValidString(name):
		return countersign.Errorf(countersign.CodeInvalid, "user name %q is not UTF-8", name)
	case strings.HasPrefix(name, " ") || strings.HasSuffix(name, " "):
		return countersign.Errorf(countersign.CodeInvalid, "user name %q starts or ends with a space", name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return countersign.Errorf(countersign.CodeInvalid, "user name %q has a character that cannot be printed (%U)", name, r)
	}
	key := foldName(name)
	for _, actor := range []string{countersign.SystemActor, CLIActor} {
		if key == foldName(actor) {
			return countersign.Errorf(countersign.CodeInvalid, "user name %q is reserved: countersign records its own actions as %q", name, actor)
		}
	}
	if strings.HasPrefix(key, foldName(configActorPrefix)) {
		return countersign.Errorf(countersign.CodeInvalid, "user name %q is reserved: names starting with %q are the actors of changes made from configuration files", name, configActorPrefix)
	}
	return nil
}

// foldName is what two names that differ only in case or spaces have in
// common: the name without spaces, each letter replaced by the smallest of
// the letters it equals in case (as strings.EqualFold compares them).
func foldName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
